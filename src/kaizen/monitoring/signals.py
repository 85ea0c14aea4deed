"""One window of stored events against the training reference: every signal and the report.

Levels and the persistence rule: `levels`; the signals: `drift_signals`, `performance_signals`;
the inputs: `window`; the typed report: `report`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from kaizen.drift import verdicts
from kaizen.config import MonitorParams, Params
from kaizen.format import OK
from kaizen.monitoring import performance as P
from kaizen.monitoring.drift_signals import decision_signal, drift_signals, volume_signal
from kaizen.monitoring.levels import overall, persist
from kaizen.monitoring.performance_signals import judged_performance, performance_signals
from kaizen.monitoring.report import Charts, MonitorReport, ScoreHistogram, TrendPoint
from kaizen.monitoring.window import (
    Reference,
    Window,
    outcome_masks,
    reference_facts,
    window_facts,
)


def score_histogram(reference, window, bins: int = 20) -> ScoreHistogram:
    """Shares of the reference and window scores in equal bins on [0, 1] (for the chart)."""
    edges = np.linspace(0, 1, bins + 1)

    def shares(values) -> list[float]:
        counts, _ = np.histogram(np.clip(values, 0, 1), edges)
        return (counts / max(counts.sum(), 1)).round(6).tolist()

    return ScoreHistogram(edges.round(4).tolist(), shares(reference), shares(window))


def analyse(  # pylint: disable=too-many-locals
    window: Window,
    reference: Reference,
    params: Params | MonitorParams,
    history: list[dict],
    now: dt.datetime,
) -> MonitorReport:
    """Every signal of the window; `history` = previous runs, newest first (see `store`)."""
    config = params.monitor
    frame = window.frame
    scores = frame["score"].to_numpy(dtype="float64") if len(frame) else np.empty(0)
    drift_report = verdicts.analyse(
        reference.features,
        frame if window.profile is None else window.profile,
        reference.numeric,
        reference.categorical,
        params.drift,
        scores=(reference.scores, scores),
    )
    edges = P.grade_edges(reference.scores, config.grades)
    evidence = P.calibration_evidence(reference.labels, reference.scores, edges)
    costs = (params.evaluate.cost_fn, params.evaluate.cost_fp)
    estimate, accepted = _estimates(frame, reference, costs, evidence, config.min_defaults)
    labelled, judged = outcome_masks(window)
    realised = judged_performance(frame, judged, reference, costs, edges)
    facts = reference_facts(reference, reference.estimated_auc(reference.scores))
    enough = len(frame) >= config.min_events
    signals = drift_signals(drift_report)
    signals.append(decision_signal(window, reference, config, enough))
    signals.append(volume_signal(window, [run["events"] for run in history], config))
    signals += performance_signals(estimate, realised, facts, config)
    signals = [
        persist(
            item,
            [run.get("signals", {}).get(item.name, {}).get("breach", OK) for run in history],
            config.persistence,
        )
        for item in signals
    ]
    level = overall(signals, len(frame), config.min_events)
    return MonitorReport(
        level=level,
        generated_at=now,
        window=window_facts(window, labelled, judged),
        signals=signals,
        reference=facts,
        estimated=estimate,
        estimated_accepted=accepted,
        realised=realised,
        calibration=evidence,
        drift=drift_report,
        charts=Charts(
            scores=score_histogram(reference.scores, scores),
            history=_trend(history, estimate, realised, window.until, level),
        ),
        notes=_notes(len(frame), labelled, judged, estimate, config),
    )


def _estimates(
    frame, reference: Reference, costs: tuple, evidence: P.Calibration, min_defaults: int
) -> tuple[P.Estimate, P.Estimate]:
    """CBPE from the bundle's recalibrated scores: through the door (every event) and for the
    accepted applications (the population whose outcomes come back). Without a recalibration
    map (an older bundle) the raw scores, supported only by the test split's calibration."""
    scores = frame["score"].to_numpy(dtype="float64") if len(frame) else np.empty(0)
    recal = reference.recalibration
    caveat = P.estimate_support(recal, scores, min_defaults)
    checked = evidence if recal is None else None
    accept = (  # compared by category code: no Python str per event
        (frame["decision"] == "accept").to_numpy(dtype=bool)
        if "decision" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    return tuple(  # type: ignore[return-value]
        P.estimate(
            reference.probabilities(some),
            reference.threshold,
            costs,
            checked,
            raw=some,
            caveat=caveat,
        )
        for some in (scores, scores[accept])  # every event (not copied), the accepted ones
    )


def _time(value) -> dt.datetime | None:
    """A stored run's time (datetime or ISO text) as aware UTC; None when missing."""
    if value is None:
        return None
    found = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return found if found.tzinfo else found.replace(tzinfo=dt.timezone.utc)


def _trend(
    history: list[dict],
    estimate: P.Estimate,
    realised: P.Realised | None,
    until: dt.datetime,
    level: str,
) -> list[TrendPoint]:
    """Estimated and realised ROC AUC per run, oldest first, this run last; every run at the
    end of its window (stored runs: their `until`), one time axis for every series."""
    points = [
        TrendPoint(
            at=_time(run.get("until")),
            estimated_auc=run.get("estimated_auc"),
            estimated_auc_se=run.get("estimated_auc_se"),
            realised_auc=run.get("realised_auc"),
            level=run.get("level"),
        )
        for run in reversed(history)
    ]
    points.append(
        TrendPoint(
            at=until,
            estimated_auc=estimate.roc_auc if estimate.rows else None,
            estimated_auc_se=estimate.roc_auc_se if estimate.rows else None,
            realised_auc=None if realised is None else realised.roc_auc,
            level=level,
        )
    )
    return points


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
