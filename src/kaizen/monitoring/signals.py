"""One window of stored events against the training reference: signals, levels, the report.

Each signal gets a level: `ok`, `warning`, `critical`, or `insufficient data` (too few events
or matured outcomes to judge: never an alarm). A signal over its critical threshold in this
window is a *breach*; it is reported `critical` only when it also breached in the previous
`persistence - 1` windows (a one-off crossing reads `warning`), against one-off false alarms.
The overall level is the worst signal level; `insufficient data` when the window is too small
and nothing else is flagged. Exit code: 2 when critical, else 0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kaizen import drift as D
from kaizen import metrics as M
from kaizen.config import Params
from kaizen.monitoring import performance as P

OK, WARNING, CRITICAL, INSUFFICIENT = "ok", "warning", "critical", "insufficient data"
RANK = {INSUFFICIENT: 0, OK: 1, WARNING: 2, CRITICAL: 3}
FROM_DRIFT = {D.DRIFT: CRITICAL, D.WARNING: WARNING, D.STABLE: OK, D.INSUFFICIENT: INSUFFICIENT}
EXIT_CODES = {CRITICAL: 2}  # anything else exits 0


@dataclass(frozen=True)
class Signal:  # pylint: disable=too-many-instance-attributes
    """A monitored quantity, its thresholds and its level in this window."""

    name: str
    level: str
    value: float | None = None
    warning: float | None = None
    critical: float | None = None
    breach: str = OK  # level before the persistence rule
    reference: float | None = None  # what the value is compared with
    detail: str = ""
    group: str = "drift"

    def to_dict(self) -> dict:
        """JSON-ready, rounded."""
        return M.rounded(asdict(self))


def by_threshold(value: float | None, warning: float, critical: float, higher_is_worse=True):
    """critical / warning / ok by thresholds; insufficient data when there is no value."""
    if value is None or not math.isfinite(value):
        return INSUFFICIENT
    worse = (lambda a, b: a >= b) if higher_is_worse else (lambda a, b: a <= b)
    if worse(value, critical):
        return CRITICAL
    return WARNING if worse(value, warning) else OK


def persist(item: Signal, previous: list[str], persistence: int) -> Signal:
    """Apply the persistence rule: `previous` are this signal's past breaches, newest first."""
    if item.breach != CRITICAL or persistence <= 1:
        return item
    streak = previous[: persistence - 1]
    if len(streak) == persistence - 1 and all(level == CRITICAL for level in streak):
        return item
    seen = 1 + sum(level == CRITICAL for level in streak)
    note = (
        f"critical threshold crossed in {seen} of the last {persistence} windows: critical after "
        f"{persistence} in a row (monitor.persistence)"
    )
    detail = f"{item.detail}; {note}" if item.detail else note
    return _replace(item, level=WARNING, detail=detail)


def _replace(item: Signal, **changes) -> Signal:
    """A copy with some fields changed."""
    return Signal(**{**asdict(item), **changes})


def signal(name: str, breach: str, group: str, **facts) -> Signal:
    """A signal whose level equals its breach (before persistence)."""
    return Signal(name=name, level=breach, breach=breach, group=group, **facts)


def overall(signals: list[Signal], events: int, min_events: int) -> str:
    """Worst level; insufficient data for a small window with nothing flagged."""
    worst = max((s.level for s in signals), key=RANK.__getitem__, default=OK)
    if RANK[worst] >= RANK[WARNING]:
        return worst
    return INSUFFICIENT if events < min_events else OK


# --- the inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:  # pylint: disable=too-many-instance-attributes
    """What a window is compared with: the training reference and the evaluated model."""

    features: pd.DataFrame  # reference part, inputs and engineered ratios
    numeric: list[str]
    categorical: list[str]
    scores: np.ndarray  # test-split scores (out-of-sample)
    labels: np.ndarray  # test-split outcomes
    threshold: float
    evaluated: dict  # evaluate's metrics.json (test part: roc_auc, cost, positive_rate)
    model_version: str = ""


@dataclass(frozen=True)
class Window:
    """Events of one window: `frame` has score, decision, outcome, matured (whether the outcome
    can be judged: decided by the store's query, `kaizen.events.predictions.matured`) and the
    inputs."""

    frame: pd.DataFrame
    since: dt.datetime | None
    until: dt.datetime
    by_time: bool = True  # a time window (volume is judged) or the last N events (it is not)


@dataclass
class MonitorReport:  # pylint: disable=too-many-instance-attributes
    """Everything one monitor run found; `to_dict` is report.json."""

    level: str
    window: dict
    signals: list[Signal]
    drift: dict
    estimated: dict
    realised: dict | None
    reference: dict
    calibration: dict
    charts: dict
    notes: list[str] = field(default_factory=list)
    generated_at: str = ""

    @property
    def exit_code(self) -> int:
        """2 when critical, else 0."""
        return EXIT_CODES.get(self.level, 0)

    def to_dict(self) -> dict:
        """JSON-ready report."""
        return {
            "level": self.level,
            "exit_code": self.exit_code,
            "generated_at": self.generated_at,
            "window": self.window,
            "signals": [s.to_dict() for s in self.signals],
            "reference": self.reference,
            "estimated": self.estimated,
            "realised": self.realised,
            "calibration": self.calibration,
            "drift": self.drift,
            "charts": self.charts,
            "notes": self.notes,
        }


# --- signals -------------------------------------------------------------------------------------


def drift_signals(report: D.DriftReport, enough: bool) -> list[Signal]:
    """Per-feature distribution drift, score drift, missing-share and unseen-level changes."""
    out = []
    for item in report.features:
        part = item.components.get("distribution", {})
        breach = FROM_DRIFT[part.get("verdict", D.INSUFFICIENT)] if enough else INSUFFICIENT
        out.append(
            signal(
                f"feature:{item.feature}",
                breach,
                "drift",
                value=item.psi,
                warning=report.config.psi_warning,
                critical=report.config.psi_alert,
                detail=f"PSI, {item.test} adjusted p = {_p(part.get('p_adjusted'))}",
            )
        )
    breach = FROM_DRIFT[report.score_verdict] if enough else INSUFFICIENT
    out.append(
        signal(
            "score_psi",
            breach,
            "drift",
            value=report.score_psi,
            warning=report.config.psi_warning,
            critical=report.config.psi_alert,
            detail=f"score PSI vs the test split's scores, chi2 p = {_p(report.score_p_value)}",
        )
    )
    for component, name, threshold in (
        ("missing", "missing_rate", "missing"),
        ("unseen", "unseen_levels", "unseen"),
    ):
        parts = [
            (item.feature, item.components[component])
            for item in report.features
            if component in item.components
        ]
        worst = max(
            (FROM_DRIFT[part["verdict"]] for _, part in parts), key=RANK.__getitem__, default=OK
        )
        values = [(part["effect"] or 0.0, feature) for feature, part in parts]
        value, feature = max(values, default=(None, ""))
        out.append(
            signal(
                name,
                worst if enough else INSUFFICIENT,
                "drift",
                value=value,
                warning=getattr(report.config, f"{threshold}_warning"),
                critical=getattr(report.config, f"{threshold}_alert"),
                detail=f"largest: {feature}" if feature and value else "",
            )
        )
    return out


def _p(value: float | None) -> str:
    """A p-value for a detail line."""
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def volume_signal(window: Window, previous_events: list[int], config) -> Signal:
    """Events in the window against the median of recent windows (time windows only)."""
    events = len(window.frame)
    if not window.by_time:
        return signal("volume", OK, "volume", value=events, detail="last-N window: not judged")
    if events == 0:
        return signal("volume", CRITICAL, "volume", value=0, detail="no events in the window")
    if not previous_events:
        return signal("volume", OK, "volume", value=events, detail="no earlier window to compare")
    median = float(np.median(previous_events))
    ratio = events / median if median else math.inf
    return signal(
        "volume",
        WARNING if ratio < config.volume_warning else OK,
        "volume",
        value=float(events),
        warning=config.volume_warning * median,
        reference=median,
        detail=f"{ratio:.2f} x the median of the last {len(previous_events)} windows",
    )


def performance_signals(
    estimate: P.Estimate, realised: dict | None, reference: Reference, params: Params, facts: dict
) -> list[Signal]:
    """Estimated AUC, default rate and cost; realised AUC test, calibration, cost, error."""
    config = params.monitor
    test = reference.evaluated.get("test", {})
    enough = estimate.rows >= config.min_events
    caveat = "" if estimate.supported else f"; {estimate.caveat}"
    drop = test.get("roc_auc", math.nan) - estimate.roc_auc if enough else None
    out = [
        signal(
            "estimated_auc",
            by_threshold(drop, config.auc_drop_warning, config.auc_drop_critical),
            "performance",
            value=estimate.roc_auc if enough else None,
            warning=test.get("roc_auc", math.nan) - config.auc_drop_warning,
            critical=test.get("roc_auc", math.nan) - config.auc_drop_critical,
            reference=test.get("roc_auc"),
            detail=f"CBPE from the scores, s.e. {estimate.roc_auc_se:.3f}{caveat}",
        ),
        signal(
            "estimated_default_rate",
            by_threshold(
                abs(estimate.default_rate - facts["default_rate"]) if enough else None,
                config.default_rate_warning,
                config.default_rate_critical,
            ),
            "performance",
            value=estimate.default_rate if enough else None,
            reference=facts["default_rate"],
            warning=config.default_rate_warning,
            critical=config.default_rate_critical,
            detail=f"mean score, s.e. {estimate.default_rate_se:.3f}; thresholds on the change",
        ),
        _cost_signal("estimated_cost", estimate.cost if enough else None, test, config),
    ]
    labelled_ok = realised is not None and _judgeable(realised, config)
    matured = realised or {}
    auc_test = matured.get("auc_test", {})
    out.append(
        signal(
            "realised_auc",
            by_threshold(
                auc_test.get("p_value") if labelled_ok else None,
                config.auc_test_warning,
                config.auc_test_critical,
                higher_is_worse=False,
            ),
            "performance",
            value=matured.get("roc_auc") if labelled_ok else None,
            reference=test.get("roc_auc"),
            warning=config.auc_test_warning,
            critical=config.auc_test_critical,
            detail=_labelled_detail(matured, config, "ECB AUC-decline test", auc_test),
        )
    )
    grades = matured.get("grades") or []
    smallest = min((g["p_value"] for g in grades), default=None)
    out.append(
        signal(
            "calibration",
            by_threshold(
                smallest if labelled_ok else None,
                config.calibration_warning,
                config.calibration_critical,
                higher_is_worse=False,
            ),
            "performance",
            value=smallest if labelled_ok else None,
            warning=config.calibration_warning,
            critical=config.calibration_critical,
            detail="smallest Jeffreys p-value over the grades (small: PD underestimates defaults)",
        )
    )
    out.append(
        _cost_signal("realised_cost", matured.get("cost") if labelled_ok else None, test, config)
    )
    error = facts.get("estimate_error")
    out.append(
        signal(
            "estimate_error",
            by_threshold(
                abs(error) if labelled_ok and error is not None else None,
                config.estimate_error_warning,
                math.inf,
            ),
            "performance",
            value=error if labelled_ok else None,
            warning=config.estimate_error_warning,
            detail="estimated minus realised ROC AUC on the matured labelled events",
        )
    )
    return out


def _judgeable(realised: dict, config) -> bool:
    """Enough matured labelled events, and of defaults and non-defaults."""
    rows, defaults = realised.get("rows", 0), realised.get("defaults", 0)
    return rows >= config.min_labelled and min(defaults, rows - defaults) >= config.min_defaults


def _labelled_detail(matured: dict, config, what: str, test: dict) -> str:
    """What the realised signals were judged on."""
    rows = matured.get("rows", 0)
    if not _judgeable(matured, config):
        return (
            f"{rows} matured labelled events, {matured.get('defaults', 0)} defaults: needs "
            f"{config.min_labelled} and {config.min_defaults} (monitor.min_labelled/min_defaults)"
        )
    if test.get("statistic") is None:
        return what
    return f"{what}: S = {test['statistic']:.2f}, one-sided p = {_p(test['p_value'])}"


def _cost_signal(name: str, value: float | None, test: dict, config) -> Signal:
    """Cost per application against the test split's, as a relative increase."""
    base = test.get("cost")
    increase = None if value is None or not base else value / base - 1
    return signal(
        name,
        by_threshold(increase, config.cost_warning, config.cost_critical),
        "performance",
        value=value,
        reference=base,
        warning=None if base is None else base * (1 + config.cost_warning),
        critical=None if base is None else base * (1 + config.cost_critical),
        detail="cost per application at the decision threshold",
    )


def decision_signal(window: Window, reference: Reference, config, enough: bool) -> Signal:
    """Refusal rate of the window against the test split's at the same threshold."""
    base = float(np.mean(reference.scores >= reference.threshold))
    decisions = window.frame["decision"] if "decision" in window.frame else pd.Series(dtype=str)
    rate = float((decisions == "refuse").mean()) if len(decisions) else None
    change = None if rate is None or not enough else abs(rate - base)
    return signal(
        "decision_rate",
        by_threshold(change, config.decision_rate_warning, config.decision_rate_critical),
        "drift",
        value=rate,
        reference=base,
        warning=config.decision_rate_warning,
        critical=config.decision_rate_critical,
        detail="share refused; thresholds on the change from the test split",
    )


# --- the whole window ----------------------------------------------------------------------------


def score_histogram(reference, window, bins: int = 20) -> dict:
    """Shares of the reference and window scores in equal bins on [0, 1] (for the chart)."""
    edges = np.linspace(0, 1, bins + 1)

    def shares(values) -> list[float]:
        counts, _ = np.histogram(np.clip(values, 0, 1), edges)
        return (counts / max(counts.sum(), 1)).round(6).tolist()

    return {
        "edges": edges.round(4).tolist(),
        "reference": shares(reference),
        "window": shares(window),
    }


def outcome_masks(window: Window) -> tuple[pd.Series, pd.Series]:
    """(labelled, judged): events with an outcome, and those whose outcome has matured."""
    frame = window.frame
    outcome = frame["outcome"] if "outcome" in frame else pd.Series(np.nan, index=frame.index)
    labelled = outcome.notna()
    return labelled, labelled & frame["matured"].astype(bool)


def judged_performance(
    frame: pd.DataFrame, judged: pd.Series, reference: Reference, costs: tuple, edges
) -> dict | None:
    """Realised performance of the matured labelled events, with the estimate on the same
    events and its error (None when there is none)."""
    if not judged.any():
        return None
    y = frame.loc[judged, "outcome"].to_numpy().astype(int)
    s = frame.loc[judged, "score"].to_numpy(dtype="float64")
    auc_dev = reference.evaluated.get("test", {}).get("roc_auc", math.nan)
    found = P.realised(y, s, reference.threshold, costs, auc_dev, edges=edges)
    found["estimated_auc"] = P.expected_auc(s)
    found["estimate_error"] = (
        found["estimated_auc"] - found["roc_auc"] if math.isfinite(found["roc_auc"]) else None
    )
    return found


def reference_facts(reference: Reference) -> dict:
    """The figures a window is compared with."""
    test = reference.evaluated.get("test", {})
    return {
        "rows": int(len(reference.features)),
        "test_rows": int(len(reference.scores)),
        "roc_auc": test.get("roc_auc"),
        "cost": test.get("cost"),
        "default_rate": float(np.mean(reference.labels)),
        "refusal_rate": float(np.mean(reference.scores >= reference.threshold)),
        "threshold": reference.threshold,
        "model_version": reference.model_version,
    }


def window_facts(window: Window, labelled: pd.Series, judged: pd.Series) -> dict:
    """The window's bounds and counts."""
    frame = window.frame
    versions = frame["model_version"].dropna().unique().tolist() if "model_version" in frame else []
    return {
        "since": None if window.since is None else window.since.isoformat(),
        "until": window.until.isoformat(),
        "events": len(frame),
        "labelled": int(labelled.sum()),
        "matured_labelled": int(judged.sum()),
        "by_time": window.by_time,
        "model_versions": sorted(str(version) for version in versions),
    }


def analyse(
    window: Window,
    reference: Reference,
    params: Params,
    history: list[dict],
    now: dt.datetime,
) -> MonitorReport:
    """Every signal of the window; `history` = previous runs, newest first (see `store`)."""
    config = params.monitor
    frame = window.frame
    scores = frame["score"].to_numpy(dtype="float64") if len(frame) else np.empty(0)
    drift_report = D.analyse(
        reference.features,
        frame,
        reference.numeric,
        reference.categorical,
        params.drift,
        scores=(reference.scores, scores),
    )
    edges = P.grade_edges(reference.scores, config.grades)
    evidence = P.calibration_evidence(reference.labels, reference.scores, edges)
    costs = (params.evaluate.cost_fn, params.evaluate.cost_fp)
    estimate = P.estimate(scores, reference.threshold, costs, evidence)
    labelled, judged = outcome_masks(window)
    realised = judged_performance(frame, judged, reference, costs, edges)
    facts = reference_facts(reference)
    facts["estimate_error"] = None if realised is None else realised["estimate_error"]
    enough = len(frame) >= config.min_events
    signals = drift_signals(drift_report, enough)
    signals.append(decision_signal(window, reference, config, enough))
    signals.append(volume_signal(window, [run["events"] for run in history], config))
    signals += performance_signals(estimate, realised, reference, params, facts)
    signals = [
        persist(
            item,
            [run.get("signals", {}).get(item.name, {}).get("breach", OK) for run in history],
            config.persistence,
        )
        for item in signals
    ]
    level = overall(signals, len(frame), config.min_events)
    facts.pop("estimate_error")
    return MonitorReport(
        level=level,
        window=window_facts(window, labelled, judged),
        signals=signals,
        drift={
            **drift_report.metrics(),
            "features": [item.to_dict() for item in drift_report.features],
        },
        estimated=estimate.to_dict(),
        realised=None if realised is None else M.rounded(_plain(realised)),
        reference=facts,
        calibration=M.rounded(_plain(asdict(evidence))),
        charts={
            "scores": score_histogram(reference.scores, scores),
            "history": _trend(history, estimate, realised, now, level),
        },
        notes=_notes(len(frame), labelled, judged, estimate, config),
        generated_at=now.isoformat(),
    )


def _plain(value: Any) -> Any:
    """Nested numpy scalars -> Python numbers (for JSON)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _trend(history: list[dict], estimate: P.Estimate, realised, now, level: str) -> list[dict]:
    """Estimated and realised ROC AUC per run, oldest first, this run last."""
    points = [
        {
            "at": run.get("until"),
            "estimated_auc": run.get("estimated_auc"),
            "estimated_auc_se": run.get("estimated_auc_se"),
            "realised_auc": run.get("realised_auc"),
            "level": run.get("level"),
        }
        for run in reversed(history)
    ]
    points.append(
        {
            "at": now.isoformat(),
            "estimated_auc": estimate.roc_auc if estimate.rows else None,
            "estimated_auc_se": estimate.roc_auc_se if estimate.rows else None,
            "realised_auc": None if realised is None else realised.get("roc_auc"),
            "level": level,
        }
    )
    return [M.rounded(_plain(point)) for point in points]


def _notes(events, labelled, judged, estimate: P.Estimate, config) -> list[str]:
    """Plain-language caveats of this run."""
    notes = []
    if events < config.min_events:
        notes.append(
            f"{events} events in the window, fewer than monitor.min_events = "
            f"{config.min_events}: drift and estimated performance are 'insufficient data'."
        )
    young = int(labelled.sum() - judged.sum())
    if young:
        notes.append(
            f"{young} outcome(s) of events younger than the {config.outcome_window_days}-day "
            "outcome window are counted but not judged."
        )
    if not estimate.supported:
        notes.append(f"Estimated performance: {estimate.caveat}.")
    notes.append("Estimated performance assumes: " + "; ".join(estimate.assumptions) + ".")
    return notes
