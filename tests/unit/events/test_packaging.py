"""The migrations ship with the package: setuptools finds them as modules of kaizen."""

from pathlib import Path

from setuptools import find_packages

SRC = Path(__file__).resolve().parents[3] / "src"


def test_migrations_are_packages_setuptools_finds():
    """pyproject.toml's `packages.find` takes packages only: env.py and every revision must be
    inside one (a folder without __init__.py would be left out of the wheel)."""
    found = set(find_packages(str(SRC)))
    assert {"kaizen.events.migrations", "kaizen.events.migrations.versions"} <= found
    versions = SRC / "kaizen" / "events" / "migrations" / "versions"
    assert sorted(p.name for p in versions.glob("r*.py")) == [
        "r1_main.py",
        "r2_bundles.py",
        "r3_bundle_scores.py",
        "r4_profiles.py",
    ]
