"""The one command-line entry point: `kaizen <command>` / `python -m kaizen <command>`."""

from __future__ import annotations

import argparse
import json
import sys

from kaizen import KaizenError, __version__
from kaizen.config import load_params


def _parser() -> argparse.ArgumentParser:
    """Subcommands: one per DVC stage, plus predict."""
    parser = argparse.ArgumentParser(prog="kaizen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kaizen {__version__}")
    parser.add_argument("--params", default="params.yaml", help="parameters file")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    cmd = commands.add_parser("ingest", help="validate the raw CSV, split reference/current")
    cmd.add_argument("--input", required=True)
    cmd.add_argument("--reference", required=True)
    cmd.add_argument("--current", required=True)
    cmd.add_argument("--schema", required=True)
    cmd.add_argument("--metrics", required=True)

    cmd = commands.add_parser("prepare", help="stratified train/test split of the reference")
    cmd.add_argument("--reference", required=True)
    cmd.add_argument("--schema", required=True)
    cmd.add_argument("--train", required=True)
    cmd.add_argument("--test", required=True)

    cmd = commands.add_parser("train", help="fit and save the model pipeline")
    cmd.add_argument("--train", required=True)
    cmd.add_argument("--schema", required=True)
    cmd.add_argument("--model", required=True)
    cmd.add_argument("--info", required=True, help="metadata JSON written beside the model")
    cmd.add_argument("--metrics", required=True)

    cmd = commands.add_parser("evaluate", help="metrics and plots on test and current")
    cmd.add_argument("--model", required=True)
    cmd.add_argument("--schema", required=True)
    cmd.add_argument("--test", required=True)
    cmd.add_argument("--current", required=True)
    cmd.add_argument("--output", required=True, help="folder for metrics, plots and scores")

    cmd = commands.add_parser("summary", help="print the headline metrics of an evaluate run")
    cmd.add_argument("--metrics", required=True, help="metrics.json written by evaluate")

    cmd = commands.add_parser("predict", help="score a CSV of new applications")
    cmd.add_argument("--model", default="models/model.joblib")
    cmd.add_argument("--input", required=True)
    cmd.add_argument("--output", required=True)
    cmd.add_argument("--threshold", type=float, default=None, help="refuse scores >= this")
    return parser


# Handlers: (args, params) -> what to print as JSON (None prints nothing). Imports are local
# so that `kaizen --help` stays fast.
# pylint: disable=import-outside-toplevel


def _ingest(args, params):
    """Run the ingest stage."""
    from kaizen.stages import ingest

    return ingest.run(params, args.input, args.reference, args.current, args.schema, args.metrics)


def _prepare(args, params):
    """Run the prepare stage."""
    from kaizen.stages import prepare

    return prepare.run(params, args.reference, args.schema, args.train, args.test)


def _train(args, params):
    """Run the train stage."""
    from kaizen.stages import train

    return train.run(params, args.train, args.schema, args.model, args.info, args.metrics)


def _evaluate(args, params):
    """Run the evaluate stage."""
    from kaizen.stages import evaluate

    return evaluate.run(params, args.model, args.schema, args.test, args.current, args.output)


def _summary(args, _params):
    """Print the headline metrics table."""
    from kaizen import io, metrics

    print(metrics.headline(io.read_json(args.metrics)))


def _predict(args, _params):
    """Score a CSV with the saved pipeline."""
    from kaizen import predict

    rows = predict.run(args.model, args.input, args.output, args.threshold)
    return {"rows": rows, "output": args.output}


# command -> (handler, whether it reads params.yaml)
HANDLERS = {
    "ingest": (_ingest, True),
    "prepare": (_prepare, True),
    "train": (_train, True),
    "evaluate": (_evaluate, True),
    "summary": (_summary, False),
    "predict": (_predict, False),
}


def _dispatch(args: argparse.Namespace) -> object:
    """Run the chosen command; return what it reports."""
    handler, needs_params = HANDLERS[args.command]
    return handler(args, load_params(args.params) if needs_params else None)


def main(argv: list[str] | None = None) -> int:
    """Parse, run, print a one-line JSON summary; user errors exit 1 with one line, no traceback."""
    args = _parser().parse_args(argv)
    try:
        result = _dispatch(args)
    except KaizenError as exc:
        print(f"kaizen {args.command}: error: {exc}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, default=str))
    return 0
