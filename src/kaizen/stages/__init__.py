"""DVC stages only, in pipeline order. Each module declares `HELP`, its path options `PATHS`
(passed by dvc.yaml as `--option path`) and a keyword-only `run(params, *, <paths>) -> dict`:
read, call the pure core once, write atomically. The CLI builds one subcommand per module."""

from __future__ import annotations

import argparse
from importlib import import_module
from types import ModuleType

from kaizen.io.params import load_params

STAGES = (
    "ingest",
    "prepare",
    "train",
    "scorecard",
    "evaluate",
    "drift",
    "fairness",
    "card",
    "bundle",
)


def module(name: str) -> ModuleType:
    """The stage module `kaizen.stages.<name>`."""
    return import_module(f"kaizen.stages.{name}")


def register(commands: argparse._SubParsersAction) -> None:
    """One subcommand per stage, with a required option per path."""
    for name in STAGES:
        stage = module(name)
        cmd = commands.add_parser(name, help=stage.HELP)
        for path in stage.PATHS:
            cmd.add_argument(f"--{path}", required=True)
        cmd.set_defaults(handler=_handler(stage))


def _handler(stage: ModuleType):
    """Load params.yaml once, then call the stage with its paths as keywords."""

    def handle(args: argparse.Namespace) -> dict:
        paths = {path: getattr(args, path) for path in stage.PATHS}
        return stage.run(load_params(args.params), **paths)

    return handle
