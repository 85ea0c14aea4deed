"""The one command-line entry point: `kaizen <command>` / `python -m kaizen <command>`."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import import_module

from kaizen import KaizenError, __version__

# The registry: each module adds its own subcommands with `register(commands)` and binds a
# handler `(args) -> result` (printed as one JSON line; None prints nothing).
MODULES = (
    "kaizen.stages",
    "kaizen.commands.summary",
    "kaizen.commands.predict",
    "kaizen.commands.report",
    "kaizen.commands.sweep",
    "kaizen.commands.data",
    "kaizen.commands.monitor",
    "kaizen.commands.simulate",
    "kaizen.commands.serve",
    "kaizen.commands.events",
    "kaizen.commands.mlflow",
)


def parser() -> argparse.ArgumentParser:
    """The parser with every registered subcommand."""
    root = argparse.ArgumentParser(prog="kaizen", description=__doc__)
    root.add_argument("--version", action="version", version=f"kaizen {__version__}")
    root.add_argument("--params", default="params.yaml", help="parameters file")
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    for name in MODULES:
        import_module(name).register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    """Parse, run, print a one-line JSON summary; user errors exit 1 with one line, no traceback."""
    args = parser().parse_args(argv)
    try:
        result = args.handler(args)
    except KaizenError as exc:
        print(f"kaizen {args.command}: error: {exc}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, default=str))
    # A handler may ask for another exit code (kaizen monitor: 2 when critical).
    return int(result.get("exit_code", 0)) if isinstance(result, dict) else 0
