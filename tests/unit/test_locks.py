"""The lock files agree: a package pinned in two locks has one version in both (issue 24).

dvc.lock records the hashes of the pipeline's outputs; a library that shapes an output (pyarrow
writes the Parquet files, numpy/pandas/scikit-learn/scipy/joblib compute and save the model) at
another version in another lock would make a fresh clone's `make repro` rewrite dvc.lock
depending on which lock its venv came from.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Runtime, runtime + dev, runtime + dev + mlflow: each lock contains the one before it.
LOCKS = ("requirements.lock", "requirements-dev.lock", "requirements-mlflow.lock")
SHAPES_OUTPUTS = ("pyarrow", "numpy", "pandas", "scikit-learn", "scipy", "joblib")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(text: str) -> dict[str, str]:
    """{normalised name: version} of a pip-compiled lock."""
    found = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def lock(name: str) -> dict[str, str]:
    """The pins of one of the repository's lock files."""
    return pins((ROOT / name).read_text(encoding="utf-8"))


def test_pins_parse_names_and_versions():
    """Names are normalised (PEP 503); comments, hashes and markers are not pins."""
    text = (
        "# header\nruamel.yaml==0.19.1 \\\n    --hash=sha256:ab\n"
        "Colorama==0.4.6 ; sys_platform == 'win32'\n    # via click\n"
    )
    assert pins(text) == {"ruamel-yaml": "0.19.1", "colorama": "0.4.6"}


@pytest.mark.parametrize("smaller, larger", list(zip(LOCKS, LOCKS[1:])))
def test_each_lock_contains_the_one_before(smaller, larger):
    """Every package of the smaller lock is in the larger one, at the same version."""
    small, large = lock(smaller), lock(larger)
    differ = {p: (v, large[p]) for p, v in small.items() if p in large and large[p] != v}
    assert not differ, f"{larger} pins another version than {smaller}: {differ}"
    assert not set(small) - set(large), f"{larger} lacks {sorted(set(small) - set(large))}"


def test_runtime_lock_has_no_dev_tool():
    """The runtime lock (repro, serving, the image) carries none of the dev extra's tools."""
    assert not {"pytest", "pylint", "moto", "mypy"} & set(lock(LOCKS[0]))


@pytest.mark.parametrize("name", LOCKS)
def test_output_shaping_libraries_are_pinned(name):
    """Each library that shapes an output is pinned in every lock."""
    missing = [p for p in SHAPES_OUTPUTS if p not in lock(name)]
    assert not missing, f"{name} does not pin {missing}"


def test_runtime_lock_has_ruamels_c_loader():
    """ruamel.yaml >= 0.19.1 makes its C loader an extra: without it DVC parses in pure Python."""
    assert "ruamel-yaml-clib" in lock(LOCKS[0])
