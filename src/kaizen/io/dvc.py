"""dvc's Python API, the package's only use of it (commands/runner.py runs the dvc CLI): its
Hydra expansion of sweep grids, the experiment queue's state, and a DVC-tracked output at a
revision (cache or remote)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kaizen import KaizenError
from kaizen.experiments.selection import PARAMS_FILE


def expand(calls: list[list[str]]) -> list[list[str]]:
    """The experiments a grid queues (DVC's own Hydra expansion: one product per call)."""
    # pylint: disable=import-outside-toplevel
    from dvc.utils.hydra import get_hydra_sweeps
    from hydra.errors import HydraException

    runs: list[list[str]] = []
    for call in calls:
        for override in call:
            if "=" not in override:
                raise KaizenError(f"-S {override}: expected 'key=value'")
        try:
            sweeps = get_hydra_sweeps({PARAMS_FILE: call})
        except (HydraException, ValueError) as exc:
            raise KaizenError(f"-S {' '.join(call)}: {str(exc).splitlines()[0]}") from None
        runs.extend(sweep[PARAMS_FILE] for sweep in sweeps)
    return runs


def cached_output(commit: str, path: str) -> bytes | None:
    """A DVC-tracked output as of `commit`, from the local DVC cache or the project's DVC remote;
    None when neither has it (or when the revision does not track `path`)."""
    # pylint: disable=import-outside-toplevel
    import dvc.api  # slow import: only when a report needs it
    from dvc.exceptions import DvcException

    try:
        with dvc.api.open(path, repo=".", rev=commit, mode="rb") as handle:
            return handle.read()
    except (DvcException, OSError):
        return None


def queue_status() -> tuple[dict[str, str], int]:
    """What `dvc queue status` prints, read in this process: {experiment name: status in lower
    case} and the number of active workers. A `dvc queue status` process costs about 0.6 CPU
    seconds (it imports DVC); this, about 0.01 s after the first call. A sweep polls it every
    few seconds, and on two cores that process took CPU from the second worker (issue 24)."""
    # pylint: disable=import-outside-toplevel
    from dvc.repo import Repo

    with Repo(".") as repo:  # opened per call: a fresh view of the queue and the refs
        queue = repo.experiments.celery_queue
        tasks, workers = _asked(lambda: (queue.status(), queue.worker_status()))
    states = {task["name"]: str(task["status"]).lower() for task in tasks if task.get("name")}
    return states, sum(1 for active in workers.values() if active)


BROKER_TRIES = 3
T = TypeVar("T")


def _asked(ask: Callable[[], T]) -> T:
    """`ask()`, asked again (BROKER_TRIES in all) when it fails with a ValueError: kombu's
    filesystem broker, under DVC's queue, moves a worker's reply file away before the worker
    has finished writing it, then fails to decode the empty file (a JSONDecodeError, seen in
    CI); that reply is lost, the next broadcast gets fresh ones. `worker_status` waits up to
    1 s for the replies, so a retry costs no CPU."""
    for attempt in range(BROKER_TRIES):
        try:
            return ask()
        except ValueError:
            if attempt == BROKER_TRIES - 1:
                raise
    raise AssertionError("unreachable")
