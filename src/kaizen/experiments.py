"""Parameter sweeps, I/O part: DVC's experiment commands through its CLI, in the current repo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import yaml

from kaizen import KaizenError, sweep

GRIDS_FILE = "sweeps.yaml"


def _echo(message: str) -> None:
    """Progress goes to stderr; stdout keeps the results."""
    print(message, file=sys.stderr, flush=True)


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command (dvc or git) in the current directory; a failure raises a one-line error."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    # Files, not pipes: `dvc queue start` leaves workers holding its output open for good.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            code = subprocess.run(args, stdout=out, stderr=err, check=False, env=env).returncode
        except FileNotFoundError:
            raise KaizenError(f"{args[0]}: command not found") from None
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(args, code, out.read(), err.read())
    if check and result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise KaizenError(f"{' '.join(args[:3])}: {lines[-1]}")
    return result


def load_grid(name: str, path: str = GRIDS_FILE) -> list[list[str]]:
    """The queue calls of the named grid in `sweeps.yaml`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KaizenError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise KaizenError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    grids = sweep.parse_grids(raw, path)
    if name not in grids:
        raise KaizenError(f"{path}: no grid named {name!r} (have: {', '.join(grids)})")
    return grids[name]


def untracked_files(folder: str = "src") -> list[str]:
    """Untracked, not ignored files under `folder` (git's view)."""
    out = run("git", "ls-files", "--others", "--exclude-standard", "--", folder).stdout
    return out.split()


def queue(calls: list[list[str]]) -> list[str]:
    """`dvc exp run --queue -S …` once per call; the names DVC gave the queued experiments."""
    names = []
    for call in calls:
        args = [arg for override in call for arg in ("-S", override)]
        out = run("dvc", "exp", "run", "--queue", *args).stdout
        names.extend(re.findall(r"Queued experiment '([^']+)'", out))
    return names


def statuses() -> tuple[dict[str, str], int]:
    """Task statuses by experiment name, and the number of active workers."""
    text = run("dvc", "queue", "status").stdout
    return sweep.parse_queue_status(text), sweep.active_workers(text)


def wait(
    names: list[str],
    jobs: int,
    poll: float = 2.0,
    stall: int = 10,
    echo: Callable[[str], None] = _echo,
) -> dict[str, str]:
    """Start `jobs` workers, report progress until every named task succeeded or failed."""
    run("dvc", "queue", "start", "-j", str(jobs))
    idle = 0
    restarted = False
    last = None
    while True:
        states, workers = statuses()
        counts = sweep.progress(states, names)
        line = (
            f"sweep: {counts['done']} done, {counts['failed']} failed, "
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
            run("dvc", "queue", "start", "-j", str(jobs))
            restarted, idle = True, 0
        time.sleep(poll)


def show() -> tuple[sweep.Experiment, list[sweep.Experiment]]:
    """The baseline and its experiments (`dvc exp show --json`)."""
    text = run("dvc", "exp", "show", "--json").stdout
    return sweep.parse_show(json.loads(text))


def logs(name: str) -> str:
    """An experiment's log (`dvc queue logs NAME`), empty when unavailable."""
    return run("dvc", "queue", "logs", name, check=False).stdout


def select(
    metric: str, way: str | None, guards: list[str]
) -> tuple[sweep.Experiment, list[sweep.Experiment], sweep.Experiment, str, str]:
    """Baseline, experiments, winner, resolved metric and direction."""
    baseline, experiments = show()
    available = set(baseline.metrics).union(*(e.metrics for e in experiments))
    key = sweep.resolve_metric(metric, available)
    chosen = sweep.direction(key, way)
    parsed = tuple(sweep.parse_guard(text) for text in guards)
    return (
        baseline,
        experiments,
        sweep.best(experiments, baseline, key, chosen, parsed),
        key,
        chosen,
    )


def branch(name: str, target: str) -> None:
    """`dvc exp branch NAME TARGET`, refusing an existing branch."""
    if run("git", "rev-parse", "--verify", "--quiet", f"refs/heads/{target}", check=False).stdout:
        raise KaizenError(f"branch {target} already exists (pass --branch NAME)")
    run("dvc", "exp", "branch", name, target)


def clean() -> int:
    """Remove every experiment and finished queue task; refuse while tasks are pending."""
    states, _ = statuses()
    pending = [name for name, state in states.items() if state not in sweep.FINISHED]
    if pending:
        raise KaizenError(
            f"dvc queue: {len(pending)} task(s) still queued or running; wait, "
            "or stop them with `dvc queue kill`/`dvc exp remove --queue`"
        )
    _, experiments = show()
    run("dvc", "exp", "remove", "--all-commits")
    run("dvc", "queue", "remove", "--success", "--failed")
    return len(experiments)
