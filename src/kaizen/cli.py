"""The one command-line entry point: `kaizen <command>` / `python -m kaizen <command>`."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import sys
import threading
from importlib import import_module
from typing import Iterator

from kaizen import KaizenError, __version__, runtime

# The registry: each module adds its own subcommands with `register(commands)` and binds a
# handler `(args) -> result` (printed as one JSON line; None prints nothing). The keys are the
# commands each module registers: `kaizen <command>` imports that module only (start-up time:
# `kaizen predict` need not load SQLAlchemy or MLflow); help and errors import them all.
MODULES = {
    "kaizen.stages": (
        "ingest",
        "prepare",
        "train",
        "scorecard",
        "evaluate",
        "drift",
        "fairness",
        "card",
        "bundle",
    ),
    "kaizen.commands.summary": ("summary",),
    "kaizen.commands.predict": ("predict",),
    "kaizen.commands.report": ("report",),
    "kaizen.commands.plots": ("plots",),
    "kaizen.commands.sweep": ("sweep", "best", "promote", "sweep-clean"),
    "kaizen.commands.data": ("data",),
    "kaizen.commands.monitor": ("monitor",),
    "kaizen.commands.simulate": ("simulate-traffic",),
    "kaizen.commands.serve": ("serve",),
    "kaizen.commands.events": ("events",),
    "kaizen.commands.mlflow": ("mlflow",),
}


class Stderr(logging.Handler):
    """Records as lines on whatever `sys.stderr` is when they come (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pylint: disable=broad-exception-caught  # logging's own contract
            self.handleError(record)


@contextlib.contextmanager
def diagnostics(command: str, level: int | str = logging.INFO) -> Iterator[logging.Logger]:
    """The one logging configuration: the package's records go to stderr as
    `kaizen <command>: message` while the block runs, and not to the root logger (a library
    configuring it must not print them twice); `level` can be raised or lowered inside."""
    logger = logging.getLogger("kaizen")
    handler = Stderr()
    handler.setFormatter(logging.Formatter(f"kaizen {command}: %(message)s"))
    before = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]


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
    root.add_argument(
        "--params", default="params.yaml", help="parameters file (default: %(default)s)"
    )
    root.add_argument(
        "-v", "--verbose", action="store_true", help="debug messages on stderr (KAIZEN_LOG_LEVEL)"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    command = command_of(argv or [])
    wanted = [name for name, words in MODULES.items() if command in words] or list(MODULES)
    for name in wanted:
        import_module(name).register(commands)
    name_actions(commands)
    return root


def name_actions(commands: argparse._SubParsersAction) -> None:
    """Append each command's own actions to its help line (`events … (init, upgrade, check…)`),
    so that `kaizen --help` lists every action without a hand-kept list that can fall behind."""
    for choice in commands._choices_actions:  # pylint: disable=protected-access
        sub = commands.choices[choice.dest]
        nested = [
            action
            for action in sub._actions  # pylint: disable=protected-access
            if isinstance(action, argparse._SubParsersAction)  # pylint: disable=protected-access
        ]
        if nested:
            choice.help = f"{choice.help} ({', '.join(nested[0].choices)})"


def main(argv: list[str] | None = None) -> int:
    """Parse, run, print a one-line JSON summary; user errors exit 1 with one line, no traceback.
    Diagnostics go to stderr at KAIZEN_LOG_LEVEL (default INFO; DEBUG with --verbose)."""
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv).parse_args(argv)
    with diagnostics(args.command) as logger:
        try:
            logger.setLevel(
                runtime.Logging.load(log_level="DEBUG" if args.verbose else None).log_level
            )
            result = args.handler(args)
        except KaizenError as exc:
            logger.error("error: %s", exc)
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
    another thread is still running, the interpreter exits as usual (it waits for it). The
    BLAS kernels are chosen first, before any command loads numpy."""
    runtime.blas_defaults()
    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()  # pylint: disable=protected-access  # what a normal exit runs
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to flush to
            stream.flush()
    os._exit(code)
