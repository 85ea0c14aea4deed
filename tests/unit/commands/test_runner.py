"""The one home of git and dvc subprocesses: outputs, one-line errors, files at a revision."""

from __future__ import annotations

import subprocess

import pytest

from kaizen import KaizenError
from kaizen.commands import runner
from tests.unit.helpers import git_repo


@pytest.fixture(name="repo")
def fixture_repo(tmp_path, monkeypatch):
    """A git repository with one commit holding `a.txt`."""
    git_repo(tmp_path, monkeypatch)
    (tmp_path / "a.txt").write_text("first\n", encoding="utf-8")
    subprocess.run(["git", "add", "a.txt"], check=True)
    subprocess.run(["git", "commit", "-q", "-m", "one"], check=True)
    return tmp_path


def test_git_output_and_file_at(repo):
    """stdout as text; a file's bytes at a commit, None when absent there."""
    (repo / "a.txt").write_text("edited\n", encoding="utf-8")
    commit = runner.resolve("main")
    assert runner.git("rev-parse", "HEAD").stdout.strip() == commit
    assert runner.file_at(commit, "a.txt") == b"first\n"
    assert runner.file_at(commit, "missing.txt") is None


def test_failures_are_one_line(repo):
    """The last line of the tool's own message, and unknown revisions name the fix."""
    assert repo.is_dir()
    with pytest.raises(KaizenError, match=r"^`git rev-parse --verify` failed: fatal"):
        runner.git("rev-parse", "--verify", "nope")
    assert runner.git("rev-parse", "--verify", "nope", check=False).returncode != 0
    with pytest.raises(KaizenError, match="unknown base revision 'nope'.*fetch-depth: 0"):
        runner.resolve("nope")


def test_outside_a_repository(tmp_path, monkeypatch):
    """Not a git repository: said in one line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    with pytest.raises(KaizenError, match="not inside a git repository"):
        runner.resolve("main")


def test_missing_git(monkeypatch):
    """No git on PATH: one line."""
    monkeypatch.setenv("PATH", "")
    with pytest.raises(KaizenError, match="git: command not found"):
        runner.resolve("main")


def test_dvc_runs_with_this_interpreter(repo):
    """`dvc` is `python -m dvc` of this environment (no other dvc on PATH is used)."""
    result = runner.dvc("version", check=False)
    assert result.args == ["dvc", "version"]
    assert result.returncode == 0 and "DVC version" in result.stdout
    assert repo.is_dir()


def test_missing_binary():
    """A tool that is not installed: a one-line error, no traceback."""
    with pytest.raises(KaizenError, match="kaizen-no-such-tool: command not found"):
        runner.execute("kaizen-no-such-tool")


def test_data_at_reads_git_files(repo):
    """A file in git at a commit; None when neither the file nor a .dvc file is there."""
    commit = runner.resolve("main")
    assert repo.is_dir()
    assert runner.data_at(commit, "a.txt") == b"first\n"
    assert runner.data_at(commit, "data.csv") is None
