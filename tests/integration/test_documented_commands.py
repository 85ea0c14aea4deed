"""Every shell command the README and the docs show runs, as written, in a temporary clone.

One session clone of the repository (the pages, the pipeline, a 600-row slice of the data, fast
evaluate params) is reproduced once; each page then runs in its own copy, its blocks in order in
one bash (see `tests/documented.py`), with `.venv/bin` first on PATH as after
`source .venv/bin/activate`. Two liberties, both mechanical: the example port 8000 becomes a free
port, and `make` is given the test's environment instead of installing one (its install stamps
are emptied). A block that cannot run here says why on the line before its fence; the test
prints those reasons. A page with no block to run (none, or every one marked) is no test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.documented import blocks, script
from tests.integration.conftest import (
    ROOT,
    Project,
    build_project,
    copy_project,
    environment,
    free_port,
)

pytestmark = pytest.mark.integration


def runnable(page: Path) -> bool:
    """True when the page has a shell block that runs here (one not marked `not run`)."""
    return any(block.not_run is None for block in blocks(page.read_text(encoding="utf-8")))


# A test per page with something to run: a page without shell blocks, or whose every block says
# why it does not run, has nothing to test (it was a skipped or empty test).
PAGES = sorted(
    (
        page
        for page in [ROOT / "README.md", *ROOT.glob("docs/**/*.md")]
        if not page.is_symlink() and runnable(page)
    ),
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
EXTRA = ("README.md", "docs", "mkdocs.yml", "sweeps.yaml", "data/raw/README.md")
# A larger slice than the other tests': the retraining loop retrains on the accepted applicants'
# outcomes only, and 5-fold cross-validation needs at least 5 defaults among them.
DOC_ROWS = 1500
TIMEOUT = 900  # seconds for one page: a hung server or queue fails the test instead of blocking


@pytest.fixture(scope="module", name="documented")
def fixture_documented(tmp_path_factory) -> Project:
    """The reproduced clone every page starts from (committed, so `--base main` has metrics)."""
    repo = build_project(tmp_path_factory.mktemp("documented") / "repo", DOC_ROWS)
    for name in EXTRA:
        source, target = ROOT / name, repo.path / name
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    (repo.path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    repo.run("dvc", "repro")
    repo.commit("pipeline run, the pages")
    return repo


def make_wrapper(bin_dir: Path) -> str:
    """`make` with the test's venv: no install step (the stamps are empty), BIN set."""
    return f'make() {{ command make STAMP= RUNTIME= BIN={bin_dir} "$@"; }}\nexport -f make\n'


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_commands_run(page: Path, documented: Project, tmp_path: Path):
    """The page's blocks run in order and every one exits 0 (a failure names its line)."""
    text = page.read_text(encoding="utf-8")
    found = blocks(text)
    for block in found:
        if block.not_run:
            print(f"{page.name}:{block.line}: not run: {block.not_run}")
    commands = "\n".join(block.body for block in found if not block.not_run)
    if "curl " in commands and shutil.which("curl") is None:
        if os.environ.get("KAIZEN_REQUIRE_CURL") == "1":
            pytest.fail("KAIZEN_REQUIRE_CURL=1 but curl is not installed")
        pytest.skip("curl not installed: the page calls the API with it")
    repo = copy_project(documented, tmp_path / "repo")
    bin_dir = repo.path / ".venv" / "bin"
    env = environment()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(repo.path / "src")  # the clone's code, whatever the venv points at
    env.pop("KAIZEN_DB", None)
    body = make_wrapper(bin_dir) + script(page, text, port=free_port())
    result = subprocess.run(
        ["bash", "-c", body],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"{page.relative_to(ROOT)}: a documented command failed (exit {result.returncode}); "
        f"the last block started is the last '>>>' line:\n{result.stderr[-6000:]}\n"
        f"stdout:\n{result.stdout[-3000:]}"
    )
