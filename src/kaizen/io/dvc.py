"""dvc's Python API, the package's only use of it (commands/runner.py runs the dvc CLI): its
Hydra expansion of sweep grids, and a DVC-tracked output at a revision (cache or remote)."""

from __future__ import annotations

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
