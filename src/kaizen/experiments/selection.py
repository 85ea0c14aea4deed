"""Parameter sweeps, pure parts: grids, `dvc exp show` parsing, leaderboard and best selection
(kaizen.io.dvc expands a grid with DVC's Hydra syntax)."""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from kaizen import KaizenError
from kaizen.pipeline.metrics import PARTS, flatten
from kaizen.pipeline.metrics import direction as metric_direction

PARAMS_FILE = "params.yaml"
FINISHED = ("success", "failed")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
GUARD = re.compile(r"^\s*(?P<metric>[^<>=\s]+)\s*(?P<op><=|>=|<|>)\s*(?P<bound>\S+)\s*$")
RULES = ("best", "one-se")
# Simplicity order of the one-SE rule, most important first: model family, then PCA (fewer
# components is simpler; none keeps every column), then calibration, then regularisation within
# the family (see `complexity`).
# The scorecard comes first: the industry's simplest model (a points table a validator reads).
FAMILIES = {"scorecard": -1, "logreg": 0, "hgb": 1, "rf": 2}
CALIBRATIONS = {"none": 0, "sigmoid": 1, "isotonic": 2}
HELD_OUT = ("roc_auc", "cost")  # the winner's held-out figures, reported once


@dataclass(frozen=True)
class Experiment:
    """One row of `dvc exp show`: flat params (`train.model`) and metrics (`file:key.sub`)."""

    name: str
    rev: str
    state: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Guard:
    """A condition a winner must meet, e.g. `test.cost <= baseline`."""

    metric: str
    op: str
    bound: float | None  # None: the baseline's value of the same metric

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{'baseline' if self.bound is None else self.bound}"


# --- grids -------------------------------------------------------------------------------------


def parse_grids(raw: Any, source: str) -> dict[str, list[list[str]]]:
    """Validate named grids: name -> list of queue calls, each a list of `-S` overrides."""
    if not isinstance(raw, dict) or not raw:
        raise KaizenError(f"{source}: expected a mapping of grid names to lists of override lists")
    grids = {}
    for name, calls in raw.items():
        if not isinstance(calls, list) or not calls:
            raise KaizenError(f"{source}: {name}: expected a non-empty list of override lists")
        for call in calls:
            if not isinstance(call, list) or not call or not all(isinstance(s, str) for s in call):
                raise KaizenError(
                    f"{source}: {name}: each item must be a non-empty list of 'key=value' strings"
                )
        grids[str(name)] = [list(call) for call in calls]
    return grids


# --- dvc exp show --json / dvc queue status ------------------------------------------------------


def _row(name: str, revision: dict, state: str) -> Experiment:
    """An Experiment from one `revs` entry of `dvc exp show --json`."""
    data = revision.get("data") or {}
    params = (data.get("params") or {}).get(PARAMS_FILE, {}).get("data", {})
    metrics = {}
    for path, content in (data.get("metrics") or {}).items():
        for key, value in flatten(content.get("data") or {}).items():
            metrics[f"{path}:{key}"] = value
    error = (revision.get("error") or {}).get("msg", "")
    return Experiment(name, revision.get("rev", ""), state, flatten(params), metrics, error)


def parse_show(rows: list[dict]) -> tuple[Experiment, list[Experiment]]:
    """The baseline commit and its experiments from `dvc exp show --json`."""
    commits = [row for row in rows if row.get("rev") != "workspace"]
    if not commits:
        raise KaizenError("dvc exp show: no commit found (the repository needs one commit)")
    head = commits[0]
    baseline = _row(head.get("name") or head["rev"][:7], head, "baseline")
    experiments = []
    for entry in head.get("experiments") or []:
        executor = entry.get("executor") or {}
        for revision in entry.get("revs") or []:
            state = executor.get("state") or ("failed" if revision.get("error") else "success")
            experiments.append(_row(entry.get("name") or revision["rev"][:7], revision, state))
    return baseline, experiments


def parse_queue_status(text: str) -> dict[str, str]:
    """`dvc queue status` table -> {experiment name: status in lower case}."""
    statuses = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] != "Task" and re.fullmatch(r"[0-9a-f]{7,}", parts[0]):
            statuses[parts[1]] = parts[-1].lower()
    return statuses


def active_workers(text: str) -> int:
    """The active worker count from `dvc queue status` ('Worker status: 2 active, 0 idle')."""
    match = re.search(r"Worker status:\s*(\d+)\s+active", text)
    return int(match.group(1)) if match else 0


def worker_count(text: str) -> int:
    """Active plus idle workers from `dvc queue status` ('Worker status: 2 active, 1 idle')."""
    match = re.search(r"Worker status:\s*(\d+)\s+active,\s*(\d+)\s+idle", text)
    return int(match.group(1)) + int(match.group(2)) if match else active_workers(text)


def progress(statuses: dict[str, str], names: list[str]) -> dict[str, int]:
    """Counts of done/failed/pending among `names` (a name not listed yet is pending)."""
    done = sum(statuses.get(name) == "success" for name in names)
    failed = sum(statuses.get(name) == "failed" for name in names)
    return {"done": done, "failed": failed, "pending": len(names) - done - failed}


# --- metric, direction, guard, ranking ------------------------------------------------------------


def resolve_metric(metric: str, available: set[str], primary: str | None = None) -> str:
    """`file:key` or a bare `key` -> the full `file:key`. A bare key found in several files is
    the one of `primary` (the model's own metrics file: the scorecard benchmark's `cv.roc_auc`
    must not make `--metric cv.roc_auc` ambiguous), else an error listing them."""
    if metric in available:
        return metric
    matches = sorted(key for key in available if key.split(":", 1)[-1] == metric)
    if len(matches) == 1:
        return matches[0]
    if primary is not None and f"{primary}:{metric}" in matches:
        return f"{primary}:{metric}"
    if matches:
        raise KaizenError(f"--metric {metric}: ambiguous, one of {', '.join(matches)}")
    raise KaizenError(f"--metric {metric}: no such metric in the experiments (see dvc exp show)")


def objective(metric: str, override: str | None = None) -> str:
    """'max' or 'min' for a metric: `override` if given, else from its name."""
    if override:
        if override not in ("max", "min"):
            raise KaizenError(f"--direction {override}: expected max or min")
        return override
    sense = metric_direction(metric)
    if sense:
        return "max" if sense > 0 else "min"
    raise KaizenError(f"--metric {metric}: unknown direction, pass --direction max or min")


def parse_guard(text: str) -> Guard:
    """'test.cost<=baseline' or 'test.roc_auc>=0.8' -> Guard."""
    match = GUARD.match(text)
    if not match:
        raise KaizenError(f"--guard {text}: expected METRIC OP VALUE, OP one of <= >= < >")
    bound = match.group("bound")
    if bound == "baseline":
        return Guard(match.group("metric"), match.group("op"), None)
    try:
        return Guard(match.group("metric"), match.group("op"), float(bound))
    except ValueError:
        raise KaizenError(f"--guard {text}: bound must be a number or 'baseline'") from None


def holdout_part(metric: str) -> str | None:
    """The held-out part (test, current) a metric key measures, or None (cv.*, others)."""
    first = metric.split(":")[-1].split(".")[0]
    return first if first in PARTS else None


def check_holdout(metric: str, allow: bool, what: str = "--metric") -> None:
    """Refuse to select on a held-out part: its figure for the winner would be optimistic."""
    part = holdout_part(metric)
    if part and not allow:
        raise KaizenError(
            f"{what} {metric}: selecting on the {PARTS[part]} part makes the winner's "
            f"{part} figure optimistic (winner's curse); select on cv.* (e.g. cv.roc_auc) and "
            "read test/current once for the winner, or pass --allow-holdout"
        )


def se_key(metric: str) -> str:
    """The standard-error key written beside a cross-validated mean: `cv.roc_auc_se`."""
    return f"{metric}_se"


def _number(value: Any) -> float | None:
    """A finite float, or None for missing or non-numeric values."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def passes(
    guard: Guard, experiment: Experiment, baseline: Experiment, primary: str | None = None
) -> bool:
    """Whether `experiment` meets `guard` (a missing value fails it)."""
    available = set(experiment.metrics) | set(baseline.metrics)
    key = resolve_metric(guard.metric, available, primary)
    value = _number(experiment.metrics.get(key))
    bound = guard.bound if guard.bound is not None else _number(baseline.metrics.get(key))
    if value is None or bound is None:
        return False
    return OPERATORS[guard.op](value, bound)


def rank(experiments: list[Experiment], metric: str, way: str) -> list[Experiment]:
    """Successful experiments, best first; those missing the metric last; ties by name."""
    sign = -1.0 if way == "max" else 1.0
    done = [e for e in experiments if e.state == "success"]

    def key(experiment: Experiment) -> tuple:
        value = _number(experiment.metrics.get(metric))
        return (value is None, sign * value if value is not None else 0.0, experiment.name)

    return sorted(done, key=key)


def _inf(value: Any) -> float:
    """A number, with None (no limit: deepest, every component) as infinity."""
    number = _number(value)
    return math.inf if number is None else number


def complexity(params: dict[str, Any]) -> tuple:
    """A sort key, simplest first, from an experiment's flat params (`train.*`).

    Lexicographic: model family (scorecard < logreg < hgb < rf); PCA components (fewer is
    simpler, none is every column); calibration (none < sigmoid < isotonic); then regularisation
    in the family: scorecard fewer bins, then a smaller C; logreg a smaller C; hgb fewer
    iterations x leaves, shallower, larger leaves, more L2; rf shallower, larger leaves, fewer
    trees.
    """
    model = str(params.get("train.model", "logreg"))
    key: list[float] = [
        FAMILIES.get(model, len(FAMILIES)),
        _inf(params.get("train.pca.n_components")),
        CALIBRATIONS.get(str(params.get("train.calibration", "none")), len(CALIBRATIONS)),
    ]
    if model == "scorecard":
        key += [
            _inf(params.get("train.scorecard.max_bins")),
            _inf(params.get("train.scorecard.C")),
        ]
    elif model == "logreg":
        key += [_inf(params.get("train.logreg.C"))]
    elif model == "hgb":
        size = _inf(params.get("train.hgb.max_iter")) * _inf(params.get("train.hgb.max_leaf_nodes"))
        key += [
            size,
            _inf(params.get("train.hgb.max_depth")),
            -_inf(params.get("train.hgb.min_samples_leaf")),
            -_inf(params.get("train.hgb.l2_regularization")),
        ]
    elif model == "rf":
        key += [
            _inf(params.get("train.rf.max_depth")),
            -_inf(params.get("train.rf.min_samples_leaf")),
            _inf(params.get("train.rf.n_estimators")),
        ]
    return tuple(key)


def best(  # pylint: disable=too-many-arguments
    experiments: list[Experiment],
    baseline: Experiment,
    metric: str,
    way: str,
    guards: tuple[Guard, ...] = (),
    *,
    rule: str = "best",
    primary: str | None = None,
) -> Experiment:
    """The best successful experiment that meets every guard (a guard's bare metric name looked
    up in `primary` first); with `rule="one-se"`, the simplest (`complexity`) of those within
    one standard error of that best."""
    ranked = [
        e for e in rank(experiments, metric, way) if _number(e.metrics.get(metric)) is not None
    ]
    if not ranked:
        raise KaizenError(f"no successful experiment with {metric} (run `kaizen sweep` first)")
    eligible = [e for e in ranked if all(passes(g, e, baseline, primary) for g in guards)]
    if not eligible:
        names = ", ".join(str(guard) for guard in guards)
        raise KaizenError(f"no experiment meets the guard {names} ({len(ranked)} checked)")
    top = eligible[0]
    if rule == "best":
        return top
    se = _number(top.metrics.get(se_key(metric)))
    if se is None:
        raise KaizenError(
            f"--rule one-se: {metric} has no standard error ({se_key(metric).split(':')[-1]}); "
            "use a cv.* metric"
        )
    value = _inf(top.metrics[metric])
    within = [e for e in eligible if abs(_inf(e.metrics[metric]) - value) <= se]
    return min(within, key=lambda e: (complexity(e.params), within.index(e)))


def held_out(experiment: Experiment, metric: str) -> str:
    """The experiment's test and current figures, e.g. 'test.roc_auc 0.838, current.roc_auc
    0.845' (from the metrics file of `metric`): read once, after selection."""
    prefix = metric.split(":")[0] + ":" if ":" in metric else ""
    shown = [
        f"{part}.{name} {score_text(experiment.metrics.get(f'{prefix}{part}.{name}'))}"
        for name in HELD_OUT
        for part in ("test", "current")
        if f"{prefix}{part}.{name}" in experiment.metrics
    ]
    return ", ".join(shown) if shown else "none"


def changed_params(rows: list[Experiment]) -> list[str]:
    """Param keys whose value differs across `rows`, in params.yaml order."""
    keys: list[str] = []
    for row in rows:
        keys.extend(key for key in row.params if key not in keys)
    return [key for key in keys if len({repr(row.params.get(key)) for row in rows}) > 1]


def _cell(value: Any) -> str:
    """A compact table cell."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def score_text(value: Any) -> str:
    """A metric value to 4 decimals ('-' when missing)."""
    number = _number(value)
    return "-" if number is None else f"{number:.4f}"


def leaderboard(experiments: list[Experiment], baseline: Experiment, metric: str, way: str) -> str:
    """A markdown table: baseline, then experiments best first, failed last; changed params only.

    A metric with a standard error (cv.*) shows as `mean ± SE`.
    """
    ordered = rank(experiments, metric, way)
    failed = sorted((e for e in experiments if e.state == "failed"), key=lambda e: e.name)
    params = changed_params([baseline, *ordered, *failed])
    short = metric.split(":")[-1]
    header = ["rank", "experiment", f"{short} ({way})", *params]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = [("base", baseline)] + [(str(i), e) for i, e in enumerate(ordered, 1)]
    rows += [("failed", e) for e in failed]
    for position, row in rows:
        value = "-" if row.state == "failed" else score_text(row.metrics.get(metric))
        se = row.metrics.get(se_key(metric))
        if value != "-" and _number(se) is not None:
            value += f" ± {score_text(se)}"
        cells = [position, row.name, value, *(_cell(row.params.get(key)) for key in params)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stage_runs(log: str) -> dict[str, str]:
    """Stage -> 'ran' / 'skipped' / 'restored' from an experiment's `dvc queue logs` text."""
    outcome = {}
    for line in log.splitlines():
        if match := re.match(r"Running stage '([^']+)'", line):
            outcome[match.group(1)] = "ran"
        elif match := re.match(r"Stage '([^']+)' didn't change, skipping", line):
            outcome[match.group(1)] = "skipped"
        elif match := re.match(r"Stage '([^']+)' is cached - skipping run, checking out", line):
            outcome[match.group(1)] = "restored"
    return outcome


def log_error(log: str) -> str:
    """The most telling error line of a failed experiment's log."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if re.match(r"^kaizen \S+: error:", line):
            return line
    for line in reversed(lines):
        if "ERROR" in line or "Error" in line:
            return line
    return lines[-1] if lines else "no log"


def untracked_error(files: list[str]) -> None:
    """Refuse to queue when `src/` holds untracked files: queued copies would not see them."""
    if files:
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        raise KaizenError(
            f"untracked files under src/ ({shown}): `git add` them before queueing, "
            "queued experiments only see tracked files"
        )
