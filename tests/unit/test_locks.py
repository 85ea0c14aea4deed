"""The lock files agree (one version of a package in all of them) and carry hashes.

dvc.lock records the hashes of the pipeline's outputs; a library that shapes an output (pyarrow
writes the Parquet files, numpy/pandas/scikit-learn/scipy/joblib compute and save the model) at
another version in another lock would make a fresh clone's `make repro` rewrite dvc.lock
depending on which lock its venv came from.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# Runtime, runtime + dev, runtime + dev + mlflow, + spark: each lock contains the one before it.
LOCKS = (
    "requirements.lock",
    "requirements-dev.lock",
    "requirements-mlflow.lock",
    "requirements-spark.lock",
)
SHAPES_OUTPUTS = ("pyarrow", "numpy", "pandas", "scikit-learn", "scipy", "joblib")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def entries(text: str) -> list[tuple[str, str, str]]:
    """(normalised name, version, the entry's text up to the next pin) of a pip-compiled lock."""
    starts = list(PIN.finditer(text))
    ends = [match.start() for match in starts[1:]] + [len(text)]
    return [
        (re.sub(r"[-_.]+", "-", match[1]).lower(), match[2], text[match.start() : end])
        for match, end in zip(starts, ends)
    ]


def pins(text: str) -> dict[str, str]:
    """{normalised name: version} of a pip-compiled lock."""
    return {name: version for name, version, _ in entries(text)}


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
    assert [entry[2] for entry in entries(text)] == [
        "ruamel.yaml==0.19.1 \\\n    --hash=sha256:ab\n",
        "Colorama==0.4.6 ; sys_platform == 'win32'\n    # via click\n",
    ]


@pytest.mark.parametrize("name", LOCKS)
def test_one_version_and_hashes_per_package(name):
    """A universal resolution may fork a package by marker: none here; `make install` runs pip
    with --require-hashes, so every pin carries at least one sha256."""
    found = entries((ROOT / name).read_text(encoding="utf-8"))
    names = [package for package, _, _ in found]
    assert len(names) == len(set(names)), f"{name} pins a package twice (a fork)"
    unhashed = [package for package, _, text in found if "--hash=sha256:" not in text]
    assert not unhashed, f"{name}: no hash for {unhashed}"


def test_runtime_lock_has_the_build_backend():
    """The project and the locks' source distribution are built with the lock's setuptools
    (`pip install --no-build-isolation`): it must satisfy pyproject's build requirement."""
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    runtime = lock(LOCKS[0])
    for requirement in map(Requirement, build["requires"]):
        assert requirement.specifier.contains(runtime[requirement.name]), requirement


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
