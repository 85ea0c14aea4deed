"""The one command-line entry point: `kaizen <command>` / `python -m kaizen <command>`."""

from __future__ import annotations

import argparse
import json
import os
import sys

from kaizen import KaizenError, __version__
from kaizen.config import load_params
from kaizen.sweep import DEFAULT_METRIC

# DVC stages: subcommand -> (help, the paths dvc.yaml passes to it as --options).
STAGES = {
    "ingest": (
        "validate the raw CSV, split it into reference and current parts",
        ("input", "reference", "current", "schema", "metrics"),
    ),
    "prepare": (
        "stratified train/test split of the reference part",
        ("reference", "schema", "train", "test"),
    ),
    "train": (
        "fit and save the model pipeline (+ its metadata JSON: --info)",
        ("train", "schema", "model", "info", "metrics"),
    ),
    "evaluate": (
        "metrics, plots and scores on the test split and the current part (--output folder)",
        ("model", "schema", "test", "current", "output"),
    ),
    "drift": (
        "data and score drift, reference vs current (--output folder)",
        ("reference", "current", "schema", "model", "output"),
    ),
}


def _parser() -> argparse.ArgumentParser:
    """Subcommands: one per DVC stage, plus summary, report, predict and the sweep commands."""
    parser = argparse.ArgumentParser(prog="kaizen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kaizen {__version__}")
    parser.add_argument("--params", default="params.yaml", help="parameters file")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    for name, (text, paths) in STAGES.items():
        cmd = commands.add_parser(name, help=text)
        for path in paths:
            cmd.add_argument(f"--{path}", required=True)
    _report_arguments(commands)

    cmd = commands.add_parser("summary", help="print the headline metrics of an evaluate run")
    cmd.add_argument("--metrics", required=True, help="metrics.json written by evaluate")

    cmd = commands.add_parser("predict", help="score a CSV of new applications")
    cmd.add_argument("--model", default="models/model.joblib")
    cmd.add_argument("--input", required=True)
    cmd.add_argument("--output", required=True)
    cmd.add_argument("--threshold", type=float, default=None, help="refuse scores >= this")
    cmd.add_argument("--separator", default=",", help="column separator of the input CSV")

    cmd = commands.add_parser("sweep", help="queue a grid of dvc experiments, run, leaderboard")
    grid = cmd.add_mutually_exclusive_group()
    grid.add_argument("--grid", default="default", help="grid name in sweeps.yaml")
    grid.add_argument(
        "-S", "--set-param", action="append", metavar="KEY=VALUES", help="dvc -S override"
    )
    cmd.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="queue workers")
    _selection(cmd)

    for name, text in (("best", "print the best experiment"), ("promote", "best -> a branch")):
        cmd = commands.add_parser(name, help=text)
        _selection(cmd)
    cmd.add_argument("--branch", default=None, help="branch name (default exp/<experiment>)")

    commands.add_parser("sweep-clean", help="remove finished experiments and queue tasks")
    return parser


def _selection(cmd: argparse.ArgumentParser) -> None:
    """The options that choose the best experiment."""
    cmd.add_argument("--metric", default=DEFAULT_METRIC, help="FILE:key or a unique key")
    cmd.add_argument("--direction", choices=("max", "min"), help="default: from the metric name")
    cmd.add_argument(
        "--guard", action="append", default=[], help="e.g. 'test.cost<=baseline' (repeatable)"
    )


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


def _drift(args, params):
    """Run the drift stage."""
    from kaizen.stages import drift

    return drift.run(params, args.reference, args.current, args.schema, args.model, args.output)


def _report_arguments(commands) -> None:
    """The `report` subcommand's options."""
    cmd = commands.add_parser("report", help="pull-request report: workspace vs a base revision")
    cmd.add_argument("--base", default="main", help="git revision to compare with")
    cmd.add_argument("--output", default="report.md", help="markdown file to write")
    cmd.add_argument("--images", default=None, help="also write PNG charts here (matplotlib)")
    cmd.add_argument("--cap", type=int, default=60_000, help="maximum report characters")


def _report(args, _params):
    """Write the pull-request report."""
    from kaizen.stages import report

    return report.run(args.base, args.output, args.params, args.images, args.cap)


def _summary(args, _params):
    """Print the headline metrics table."""
    from kaizen import io, metrics

    print(metrics.headline(io.read_json(args.metrics)))


def _predict(args, _params):
    """Score a CSV with the saved pipeline."""
    from kaizen import predict

    rows = predict.run(args.model, args.input, args.output, args.threshold, args.separator)
    return {"rows": rows, "output": args.output}


def _sweep(args, _params):
    """Queue a grid, run the queue with progress, print the leaderboard and the best."""
    from kaizen import experiments, sweep

    sweep.untracked_error(experiments.untracked_files())
    calls = [args.set_param] if args.set_param else experiments.load_grid(args.grid)
    total = len(sweep.expand(calls))
    print(f"sweep: queueing {total} experiment(s)", file=sys.stderr, flush=True)
    names = experiments.queue(calls)
    states = experiments.wait(names, args.jobs)
    baseline, rows = experiments.show()
    key = sweep.resolve_metric(args.metric, set(baseline.metrics).union(*(r.metrics for r in rows)))
    way = sweep.direction(key, args.direction)
    print(sweep.leaderboard(rows, baseline, key, way))
    failed = [name for name in names if states[name] == "failed"]
    for name in failed:
        error = sweep.log_error(experiments.logs(name))
        print(f"failed: {name}: {error} (dvc queue logs {name})", file=sys.stderr)
    guards = tuple(sweep.parse_guard(text) for text in args.guard)
    try:
        winner = sweep.best(rows, baseline, key, way, guards).name
    except KaizenError as exc:
        winner = None
        print(f"best: none ({exc})")
    else:
        print(f"best: {winner}")
    if failed:
        raise KaizenError(
            f"{len(failed)} of {len(names)} experiments failed: {', '.join(failed)} "
            "(see `dvc queue logs NAME`)"
        )
    return {"queued": len(names), "failed": 0, "metric": key, "best": winner}


def _best(args, _params):
    """Print the name of the best experiment (details on stderr)."""
    from kaizen import experiments

    _, _, winner, key, way = experiments.select(args.metric, args.direction, args.guard)
    print(f"best ({way} {key}): {winner.metrics.get(key)}", file=sys.stderr)
    print(winner.name)


def _promote(args, _params):
    """Turn the best experiment into a git branch, ready to push."""
    from kaizen import experiments

    _, _, winner, key, _ = experiments.select(args.metric, args.direction, args.guard)
    target = args.branch or f"exp/{winner.name}"
    experiments.branch(winner.name, target)
    print(
        f"promoted {winner.name} ({key} = {winner.metrics.get(key)}) to branch {target}.\n"
        f"Next: git push -u origin {target}, then open a pull request: "
        "CI reruns the pipeline and the CML report compares it with main.",
        file=sys.stderr,
    )
    return {"experiment": winner.name, "branch": target, "metric": key}


def _sweep_clean(_args, _params):
    """Remove finished experiments (a long `dvc exp show` slows DVC down)."""
    from kaizen import experiments

    return {"removed": experiments.clean()}


# command -> (handler, whether it reads params.yaml)
HANDLERS = {
    "ingest": (_ingest, True),
    "prepare": (_prepare, True),
    "train": (_train, True),
    "evaluate": (_evaluate, True),
    "drift": (_drift, True),
    "report": (_report, False),
    "summary": (_summary, False),
    "predict": (_predict, False),
    "sweep": (_sweep, False),
    "best": (_best, False),
    "promote": (_promote, False),
    "sweep-clean": (_sweep_clean, False),
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
