"""One window of stored events against the training reference: every signal and the report.

Levels and the persistence rule: `levels`; the signals: `drift_signals`, `performance_signals`;
the inputs: `window`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from kaizen.drift import verdicts
from kaizen.pipeline import metrics as M
from kaizen.config import Params
from kaizen.format import OK
from kaizen.monitoring import performance as P
from kaizen.monitoring.drift_signals import decision_signal, drift_signals, volume_signal
from kaizen.monitoring.levels import EXIT_CODES, Signal, overall, persist
from kaizen.monitoring.performance_signals import judged_performance, performance_signals
from kaizen.monitoring.window import (
    Reference,
    Window,
    outcome_masks,
    reference_facts,
    window_facts,
)


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
    drift_report = verdicts.analyse(
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
    labelled, judged = outcome_masks(window, config.outcome_window_days)
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
