"""summary: the headline metrics table of an evaluate run."""

from __future__ import annotations

import argparse

from kaizen.io import files
from kaizen.pipeline import metrics


def register(commands: argparse._SubParsersAction) -> None:
    """Add `summary`."""
    cmd = commands.add_parser("summary", help="print the headline metrics of an evaluate run")
    cmd.add_argument("--metrics", required=True, help="metrics.json written by evaluate")
    cmd.set_defaults(handler=summary)


def summary(args: argparse.Namespace) -> None:
    """Print the headline metrics table."""
    print(metrics.headline(files.read_json(args.metrics)))
