"""The one command-line entry point: `kaizen <command>` / `python -m kaizen <command>`."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import sys
import threading
from importlib import import_module

from kaizen import KaizenError, __version__

# The registry: each module adds its own subcommands with `register(commands)` and binds a
# handler `(args) -> result` (printed as one JSON line; None prints nothing). The keys are the
# commands each module registers: `kaizen <command>` imports that module only (start-up time:
# `kaizen predict` need not load SQLAlchemy or MLflow); help and errors import them all.
MODULES = {
    "kaizen.stages": ("ingest", "prepare", "train", "evaluate", "drift", "bundle"),
    "kaizen.commands.summary": ("summary",),
    "kaizen.commands.predict": ("predict",),
    "kaizen.commands.report": ("report",),
    "kaizen.commands.sweep": ("sweep", "best", "promote", "sweep-clean"),
    "kaizen.commands.data": ("data",),
    "kaizen.commands.monitor": ("monitor",),
    "kaizen.commands.simulate": ("simulate-traffic",),
    "kaizen.commands.serve": ("serve",),
    "kaizen.commands.events": ("events",),
    "kaizen.commands.mlflow": ("mlflow",),
}


def command_of(argv: list[str]) -> str | None:
    """The command word of `argv` (the first argument that is not an option or its value)."""
    words = iter(argv)
    for word in words:
        if word == "--params":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser with the subcommands of `argv`'s command (every subcommand without one)."""
    root = argparse.ArgumentParser(prog="kaizen", description=__doc__)
    root.add_argument("--version", action="version", version=f"kaizen {__version__}")
    root.add_argument("--params", default="params.yaml", help="parameters file")
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    command = command_of(argv or [])
    wanted = [name for name, words in MODULES.items() if command in words] or list(MODULES)
    for name in wanted:
        import_module(name).register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    """Parse, run, print a one-line JSON summary; user errors exit 1 with one line, no traceback."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv).parse_args(argv)
    try:
        result = args.handler(args)
    except KaizenError as exc:
        print(f"kaizen {args.command}: error: {exc}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, default=str))
    # A handler may ask for another exit code (kaizen monitor: 2 when critical).
    return int(result.get("exit_code", 0)) if isinstance(result, dict) else 0


def run() -> None:
    """The `kaizen` console script and `python -m kaizen`: `main`, then an exit that skips the
    interpreter's teardown. That teardown frees every module and object one at a time, 0.3 s
    once scikit-learn is loaded (a seventh of `kaizen predict` on a million rows), for nothing
    the process still needs: exit handlers run and the output streams are flushed first. While
    another thread is still running, the interpreter exits as usual (it waits for it)."""
    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()  # pylint: disable=protected-access  # what a normal exit runs
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to flush to
            stream.flush()
    os._exit(code)
