"""Every `git` and `dvc` subprocess of the package: one place that runs them and words failures.

`dvc` runs as `python -m dvc` with this interpreter, so that the project's environment is used
even when another dvc comes first on PATH. Output goes to temporary files, not pipes: `dvc queue
start` leaves workers holding its output open for good, and a pipe would never reach EOF.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile

from kaizen import KaizenError

log = logging.getLogger(__name__)


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`git ARGS` in the current folder."""
    return execute("git", *args, check=check)


def dvc(*args: str, check: bool = True, env: dict[str, str] | None = None):
    """`dvc ARGS` in the current folder, with this interpreter's dvc (`env`: more variables)."""
    return execute("dvc", *args, check=check, env=env)


def execute(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `git …` or `dvc …` (with our environment and `env`); with `check`, a failure raises
    a one-line error."""
    command = [sys.executable, "-m", "dvc", *args[1:]] if args[0] == "dvc" else list(args)
    env = dict(os.environ, DVC_NO_ANALYTICS="1", **(env or {}))  # ours, copied
    log.debug("run: %s", " ".join(args))
    with tempfile.TemporaryFile("w+b") as out, tempfile.TemporaryFile("w+b") as err:
        try:
            code = subprocess.run(command, stdout=out, stderr=err, check=False, env=env).returncode
        except FileNotFoundError:
            raise KaizenError(f"{args[0]}: command not found") from None
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    result = subprocess.CompletedProcess(list(args), code, stdout, stderr)
    if check and code != 0:
        raise KaizenError(f"`{' '.join(args[:3])}` failed: {last_line(result)}")
    return result


def last_line(result: subprocess.CompletedProcess) -> str:
    """The last non-empty line of a failed command's output."""
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit code {result.returncode}"


def file_at(commit: str, path: str) -> bytes | None:
    """A file's bytes at `commit`, or None when it does not exist there."""
    try:
        result = subprocess.run(
            ["git", "show", f"{commit}:./{path}"], capture_output=True, check=False
        )
    except FileNotFoundError:
        raise KaizenError("git: command not found") from None
    return result.stdout if result.returncode == 0 else None


def data_at(commit: str, path: str) -> bytes | None:
    """A data file's bytes at `commit`: from git, or, for a file DVC tracks there (`path.dvc`),
    through `dvc get` (the DVC cache, else the remote); None when neither exists."""
    content = file_at(commit, path)
    if content is not None or file_at(commit, f"{path}.dvc") is None:
        return content
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, os.path.basename(path))
        dvc("get", ".", path, "--rev", commit, "-o", copy)
        with open(copy, "rb") as handle:
            return handle.read()


def resolve(base: str) -> str:
    """Full commit id of `base`; a one-line error when it is unknown or this is not a git repo."""
    if git("rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
        raise KaizenError("not inside a git repository")
    result = git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False)
    if result.returncode != 0:
        raise KaizenError(
            f"unknown base revision {base!r} (fetch it first, e.g. "
            "`git fetch origin main`; in CI check out with fetch-depth: 0)"
        )
    return result.stdout.strip()
