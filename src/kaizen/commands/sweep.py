"""sweep, best, promote, sweep-clean: DVC's experiment queue driven through its CLI."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
from typing import Callable, NamedTuple

from kaizen import KaizenError, runtime
from kaizen.experiments import selection as experiments
from kaizen.commands import runner
from kaizen.commands.pipeline import optional_stage_option
from kaizen.io import dvc, files

GRIDS_FILE = "sweeps.yaml"
# Cross-validated on the train split (mean; `_se` beside it): selecting on test.* or current.*
# would make the winner's held-out figures optimistic, so those need --allow-holdout.
DEFAULT_METRIC = "cv.roc_auc"  # a unique key: the file is found among the metrics dvc shows
log = logging.getLogger(__name__)  # progress goes to stderr; stdout keeps the results


def load_grid(name: str, path: str = GRIDS_FILE) -> list[list[str]]:
    """The queue calls of the named grid in `sweeps.yaml`."""
    grids = experiments.parse_grids(files.read_yaml(path), path)
    if name not in grids:
        raise KaizenError(f"{path}: no grid named {name!r} (have: {', '.join(grids)})")
    return grids[name]


def untracked_files(folder: str = "src") -> list[str]:
    """Untracked, not ignored files under `folder` (git's view)."""
    out = runner.git("ls-files", "--others", "--exclude-standard", "--", folder).stdout
    return out.split()


def queue(calls: list[list[str]]) -> list[str]:
    """`dvc exp run --queue -S …` once per call; the names DVC gave the queued experiments."""
    names = []
    for call in calls:
        args = [arg for override in call for arg in ("-S", override)]
        out = runner.dvc("exp", "run", "--queue", *args).stdout
        names.extend(re.findall(r"Queued experiment '([^']+)'", out))
    return names


def statuses() -> tuple[dict[str, str], int]:
    """Task statuses by experiment name, and the number of active workers, from a `dvc queue
    status` process (what a Ctrl-C or a clean-up reads once: the CLI's own view)."""
    text = runner.dvc("queue", "status").stdout
    return experiments.parse_queue_status(text), experiments.active_workers(text)


def wait(
    names: list[str],
    jobs: int,
    poll: float = 2.0,
    stall: int = 10,
    echo: Callable[[str], None] = log.info,
) -> dict[str, str]:
    """Start `jobs` workers (OpenMP's threads shared out between them:
    `runtime.worker_threads`), report progress until every named task succeeded or failed."""
    threads = runtime.worker_threads(jobs)
    runner.dvc("queue", "start", "-j", str(jobs), env=threads)
    idle = 0
    restarted = False
    last = None
    while True:
        states, workers = dvc.queue_status()  # in this process: a poll takes no worker's CPU
        counts = experiments.progress(states, names)
        line = (
            f"{counts['done']} done, {counts['failed']} failed, "
            f"{counts['pending']} pending of {len(names)}"
        )
        if line != last:
            echo(line)
            last = line
        if counts["pending"] == 0:
            return {name: states[name] for name in names}
        idle = idle + 1 if workers == 0 else 0
        if idle >= stall:
            if restarted:
                raise KaizenError(
                    "dvc queue: no worker is running but tasks are pending; "
                    "see .dvc/tmp/exps/celery/dvc-exp-worker-*.out"
                )
            runner.dvc("queue", "start", "-j", str(jobs), env=threads)
            restarted, idle = True, 0
        time.sleep(poll)


def stop(timeout: float = 120.0, poll: float = 1.0) -> None:
    """`dvc queue stop`, then wait until no worker is left (they write under .dvc/tmp until then).

    Removing the repository while a worker still writes fails with "Directory not empty" and
    loses the run's results: benches and tests call this before cleaning up.
    """
    runner.dvc("queue", "stop", check=False)
    deadline = time.monotonic() + timeout
    while True:
        text = runner.dvc("queue", "status", check=False).stdout
        if experiments.worker_count(text) == 0:
            return
        if time.monotonic() > deadline:
            raise KaizenError(f"dvc queue: workers still running after {timeout:.0f} s")
        time.sleep(poll)


def exp_table() -> tuple[experiments.Experiment, list[experiments.Experiment]]:
    """The baseline and its experiments (`dvc exp show --json`)."""
    text = runner.dvc("exp", "show", "--json").stdout
    return experiments.parse_show(json.loads(text))


def logs(name: str) -> str:
    """An experiment's log (`dvc queue logs NAME`), empty when unavailable."""
    return runner.dvc("queue", "logs", name, check=False).stdout


class Selection(NamedTuple):
    """What `kaizen best` decided, and from what."""

    baseline: experiments.Experiment
    rows: list[experiments.Experiment]
    winner: experiments.Experiment
    key: str  # the resolved metric, file:key
    way: str  # max or min


def model_metrics() -> str | None:
    """The evaluate stage's metrics file (dvc.yaml), where a bare metric name is looked up
    first; None without that stage."""
    folder = optional_stage_option("evaluate", "output")
    return None if folder is None else f"{folder}/metrics.json"


def resolve(args: argparse.Namespace, available: set[str]) -> tuple[str, str, tuple]:
    """Metric key, direction and guards of the selection options, refusing held-out parts
    unless --allow-holdout."""
    primary = model_metrics()
    key = experiments.resolve_metric(args.metric, available, primary)
    experiments.check_holdout(key, args.allow_holdout)
    guards = tuple(experiments.parse_guard(text) for text in args.guard)
    for guard in guards:
        experiments.resolve_metric(guard.metric, available, primary)  # an unknown one: one line
    for guard in guards:
        experiments.check_holdout(guard.metric, args.allow_holdout, "--guard")
    return key, experiments.objective(key, args.direction), guards


def select(args: argparse.Namespace) -> Selection:
    """The winner by the selection options (metric, direction, guards, rule)."""
    baseline, rows = exp_table()
    available = set(baseline.metrics).union(*(e.metrics for e in rows))
    key, way, guards = resolve(args, available)
    winner = experiments.best(
        rows, baseline, key, way, guards, rule=args.rule, primary=model_metrics()
    )
    return Selection(baseline, rows, winner, key, way)


def announce(selection: Selection, rule: str) -> str:
    """'NAME: cv.roc_auc 0.8434 ± 0.0073 (max, rule best); held out, read once: test.…'."""
    winner, key = selection.winner, selection.key
    se = winner.metrics.get(experiments.se_key(key))
    shown = experiments.score_text(winner.metrics.get(key))
    shown += f" ± {experiments.score_text(se)}" if se is not None else ""
    return (
        f"{winner.name}: {key.split(':')[-1]} {shown} ({selection.way}, rule {rule}); held out, "
        f"read once for the winner: {experiments.held_out(winner, key)}"
    )


def branch(name: str, target: str) -> None:
    """`dvc exp branch NAME TARGET`, refusing an existing branch."""
    ref = f"refs/heads/{target}"
    if runner.git("rev-parse", "--verify", "--quiet", ref, check=False).stdout:
        raise KaizenError(f"branch {target} already exists (pass --branch NAME)")
    runner.dvc("exp", "branch", name, target)


def clean() -> int:
    """Remove every experiment and finished queue task; refuse while tasks are pending."""
    states, _ = statuses()
    pending = [name for name, state in states.items() if state not in experiments.FINISHED]
    if pending:
        raise KaizenError(
            f"dvc queue: {len(pending)} task(s) still queued or running; wait, "
            "or stop them with `dvc queue kill`/`dvc exp remove --queue`"
        )
    _, rows = exp_table()
    runner.dvc("exp", "remove", "--all-commits")
    runner.dvc("queue", "remove", "--success", "--failed")
    return len(rows)


# --- the CLI subcommands --------------------------------------------------------------------------


def _selection(cmd: argparse.ArgumentParser) -> None:
    """The options that choose the best experiment."""
    cmd.add_argument("--metric", default=DEFAULT_METRIC, help="FILE:key or a unique key")
    cmd.add_argument("--direction", choices=("max", "min"), help="default: from the metric name")
    cmd.add_argument(
        "--guard", action="append", default=[], help="e.g. 'cv.cost<=baseline' (repeatable)"
    )
    cmd.add_argument(
        "--rule",
        choices=experiments.RULES,
        default="best",
        help="best: the best mean; one-se: the simplest within one standard error of it",
    )
    cmd.add_argument(
        "--allow-holdout",
        action="store_true",
        help="allow selecting (or guarding) on test.* / current.* metrics",
    )


def register(commands: argparse._SubParsersAction) -> None:
    """Add `sweep`, `best`, `promote` and `sweep-clean` to the CLI."""
    cmd = commands.add_parser("sweep", help="queue a grid of dvc experiments, run, leaderboard")
    grid = cmd.add_mutually_exclusive_group()
    grid.add_argument("--grid", default="default", help="grid name in sweeps.yaml")
    grid.add_argument(
        "-S", "--set-param", action="append", metavar="KEY=VALUES", help="dvc -S override"
    )
    cmd.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="queue workers")
    _selection(cmd)
    cmd.set_defaults(handler=sweep)
    cmd = commands.add_parser("best", help="print the best experiment")
    _selection(cmd)
    cmd.set_defaults(handler=best)
    cmd = commands.add_parser("promote", help="best experiment -> a git branch")
    _selection(cmd)
    cmd.add_argument("--branch", default=None, help="branch name (default exp/<experiment>)")
    cmd.set_defaults(handler=promote)
    cmd = commands.add_parser("sweep-clean", help="remove finished experiments and queue tasks")
    cmd.set_defaults(handler=sweep_clean)


def interrupt(names: list[str]) -> str:
    """After Ctrl-C: kill the sweep's running tasks, stop every worker, then drop its queued ones
    (removal takes only once no worker holds the queue).

    Without this a DVC queue worker outlives `kaizen sweep` and goes on running (and queueing
    results into) the experiments the user meant to stop. Returns what was stopped, one line.
    """
    states, _ = statuses()
    running = [name for name in names if states.get(name) == "running"]
    if running:
        runner.dvc("queue", "kill", *running, check=False)
    stop()
    states, _ = statuses()
    queued = [name for name in names if states.get(name, "queued") in ("queued", "running")]
    if queued:
        runner.dvc("queue", "remove", *queued, check=False)
    return (
        f"interrupted: killed {len(running)} running and removed {len(queued)} queued "
        f"experiment(s) of {len(names)}; no queue worker is left"
    )


def sweep(args: argparse.Namespace) -> dict:
    """Queue a grid, run the queue with progress, print the leaderboard and the best."""
    experiments.untracked_error(untracked_files())
    calls = [args.set_param] if args.set_param else load_grid(args.grid)
    total = len(dvc.expand(calls))
    log.info("queueing %d experiment(s)", total)
    names = queue(calls)
    try:
        states = wait(names, args.jobs)
    except KeyboardInterrupt:
        raise KaizenError(interrupt(names)) from None
    baseline, rows = exp_table()
    available = set(baseline.metrics).union(*(r.metrics for r in rows))
    key, way, guards = resolve(args, available)
    print(experiments.leaderboard(rows, baseline, key, way))
    failed = [name for name in names if states[name] == "failed"]
    for name in failed:
        error = experiments.log_error(logs(name))
        log.warning("failed: %s: %s (dvc queue logs %s)", name, error, name)
    try:
        winner = experiments.best(
            rows, baseline, key, way, guards, rule=args.rule, primary=model_metrics()
        )
    except KaizenError as exc:
        chosen = None
        print(f"best: none ({exc})")
    else:
        chosen = winner.name
        print(f"best: {announce(Selection(baseline, rows, winner, key, way), args.rule)}")
    summary = {"queued": len(names), "failed": len(failed), "metric": key, "best": chosen}
    if failed:
        print(json.dumps(summary))
        raise KaizenError(
            f"{len(failed)} of {len(names)} experiments failed: {', '.join(failed)} "
            "(see `dvc queue logs NAME`)"
        )
    return summary


def best(args: argparse.Namespace) -> None:
    """Print the name of the best experiment (details, held-out figures once, on stderr)."""
    selection = select(args)
    log.info("%s", announce(selection, args.rule))
    print(selection.winner.name)


def promote(args: argparse.Namespace) -> dict:
    """Turn the best experiment into a git branch, ready to push."""
    selection = select(args)
    winner = selection.winner
    target = args.branch or f"exp/{winner.name}"
    branch(winner.name, target)
    log.info(
        "promoted %s\nto branch %s.\nNext: git push -u origin %s, then open a pull request: "
        "CI reruns the pipeline and the CML report compares it with main.",
        announce(selection, args.rule),
        target,
        target,
    )
    return {"experiment": winner.name, "branch": target, "metric": selection.key}


def sweep_clean(_args: argparse.Namespace) -> dict:
    """Remove finished experiments (a long `dvc exp show` slows DVC down)."""
    return {"removed": clean()}
