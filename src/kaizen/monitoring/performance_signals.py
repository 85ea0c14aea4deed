"""Signals on the model's performance: estimated from the scores (CBPE) on every window, realised
on matured labelled events (ECB AUC test, calibration by grade, cost, the estimate's error).

Like for like: the window's estimate is compared with the same estimator on the test split, and
realised performance with the test split restricted to the population whose outcomes came back
(accepted applicants in production: `selective`)."""

from __future__ import annotations

import math

import pandas as pd

from kaizen.config import MonitorConfig
from kaizen.format import fmt, p_value
from kaizen.monitoring import performance as P
from kaizen.monitoring import selective
from kaizen.monitoring.levels import Signal, by_threshold, signal
from kaizen.monitoring.window import Reference, ReferenceFacts


def performance_signals(
    estimate: P.Estimate,
    realised: P.Realised | None,
    facts: ReferenceFacts,
    config: MonitorConfig,
) -> list[Signal]:
    """Estimated AUC, default rate and cost; realised AUC test, calibration, cost, error."""
    auc_dev = facts.estimated_auc if facts.estimated_auc is not None else facts.roc_auc
    auc_dev = math.nan if auc_dev is None else auc_dev
    enough = estimate.rows >= config.min_events
    caveat = "" if estimate.supported else f"; insufficient data: {estimate.caveat}"
    drop = auc_dev - estimate.roc_auc if enough and estimate.supported else None
    out = [
        signal(
            "estimated_auc",
            by_threshold(drop, config.auc_drop_warning, config.auc_drop_critical),
            "performance",
            value=estimate.roc_auc if enough else None,
            warning=auc_dev - config.auc_drop_warning,
            critical=auc_dev - config.auc_drop_critical,
            reference=auc_dev,
            statistic="ROC AUC (CBPE)",
            detail=(
                f"CBPE from the recalibrated scores, s.e. {fmt(estimate.roc_auc_se)}, against "
                f"the same estimator on the test split{caveat}"
            ),
        ),
        signal(
            "estimated_default_rate",
            by_threshold(
                abs(estimate.default_rate - facts.default_rate) if enough else None,
                config.default_rate_warning,
                config.default_rate_critical,
            ),
            "performance",
            value=estimate.default_rate if enough else None,
            reference=facts.default_rate,
            warning=config.default_rate_warning,
            critical=config.default_rate_critical,
            statistic="default rate (CBPE)",
            detail=f"mean score, s.e. {fmt(estimate.default_rate_se)}; thresholds on the change",
        ),
        _cost_signal("estimated_cost", estimate.cost if enough else None, facts.cost, config),
    ]
    judged = realised if realised is not None and _judgeable(realised, config) else None
    base = None if realised is None else realised.baseline
    out.append(
        signal(
            "realised_auc",
            by_threshold(
                None if judged is None else judged.auc_test.p_value,
                config.auc_test_warning,
                config.auc_test_critical,
                higher_is_worse=False,
            ),
            "performance",
            value=None if judged is None else judged.roc_auc,
            reference=facts.roc_auc if base is None else base.roc_auc,
            warning=config.auc_test_warning,
            critical=config.auc_test_critical,
            statistic="ROC AUC",
            detail=_labelled_detail(realised, config, "ECB AUC-decline test"),
        )
    )
    out.append(_calibration_signal(judged, realised, config))
    base_cost = facts.cost if base is None or base.cost is None else base.cost
    out.append(
        _cost_signal("realised_cost", None if judged is None else judged.cost, base_cost, config)
    )
    error = None if judged is None else judged.estimate_error
    out.append(
        signal(
            "estimate_error",
            by_threshold(
                None if error is None else abs(error),
                config.estimate_error_warning,
                math.inf,
            ),
            "performance",
            value=error,
            warning=config.estimate_error_warning,
            statistic="ROC AUC error",
            detail="estimated minus realised ROC AUC on the matured labelled events",
        )
    )
    return out


def _calibration_signal(
    judged: P.Realised | None, realised: P.Realised | None, config: MonitorConfig
) -> Signal:
    """The global Hosmer-Lemeshow p-value over the grades decides (one test: its stated level
    holds); the detail names the grades whose two-sided Jeffreys test fails after Holm's
    adjustment, and which way (over- or under-predicting defaults)."""
    test = None if judged is None else judged.hosmer_lemeshow
    value = None if test is None else test.p_value
    if judged is None or test is None:
        detail = _labelled_detail(realised, config, "Hosmer-Lemeshow")
    else:
        missed = [
            f"grade {g.grade} {g.direction} (PD {fmt(g.pd)}, observed {fmt(g.default_rate)}, "
            f"Holm p = {p_value(g.p_adjusted)})"
            for g in judged.grades
            if g.p_adjusted < config.calibration_warning
        ]
        detail = (
            f"Hosmer-Lemeshow chi2 = {fmt(test.statistic)}, {test.df} df, p = "
            f"{p_value(test.p_value)}; " + ("; ".join(missed) or "no grade misses its default rate")
        )
    return signal(
        "calibration",
        by_threshold(
            value, config.calibration_warning, config.calibration_critical, higher_is_worse=False
        ),
        "performance",
        value=value,
        warning=config.calibration_warning,
        critical=config.calibration_critical,
        statistic="Hosmer-Lemeshow p",
        detail=detail,
    )


def _judgeable(realised: P.Realised, config: MonitorConfig) -> bool:
    """Enough matured labelled events, and of defaults and non-defaults."""
    rows, defaults = realised.rows, realised.defaults
    return rows >= config.min_labelled and min(defaults, rows - defaults) >= config.min_defaults


def _labelled_detail(realised: P.Realised | None, config: MonitorConfig, what: str) -> str:
    """What the realised signals were judged on."""
    if realised is None or not _judgeable(realised, config):
        rows, defaults = (0, 0) if realised is None else (realised.rows, realised.defaults)
        return (
            f"{rows} matured labelled events, {defaults} defaults: needs "
            f"{config.min_labelled} and {config.min_defaults} (monitor.min_labelled/min_defaults)"
        )
    test = realised.auc_test
    base = realised.baseline
    against = "" if base is None else f" against the test split's {base.describe}"
    if test.statistic is None:
        return what + against
    return (
        f"{what}{against}: S = {fmt(test.statistic)}, one-sided p = {p_value(test.p_value)} "
        f"(unpaired: s.e. {fmt(test.se)} of the window, {fmt(test.se_dev)} of the baseline)"
    )


def _cost_signal(name: str, value: float | None, base: float | None, config) -> Signal:
    """Cost per application against the test split's, as a relative increase."""
    increase = None if value is None or not base else value / base - 1
    return signal(
        name,
        by_threshold(increase, config.cost_warning, config.cost_critical),
        "performance",
        value=value,
        reference=base,
        warning=None if base is None else base * (1 + config.cost_warning),
        critical=None if base is None else base * (1 + config.cost_critical),
        statistic="cost per application",
        detail="cost per application at the decision threshold",
    )


def judged_performance(
    frame: pd.DataFrame, judged: pd.Series, reference: Reference, costs: tuple, edges
) -> P.Realised | None:
    """Realised performance of the matured labelled events against the test split restricted to
    the population they cover (accepted applicants when no refused one has an outcome), with
    the estimate on the same events and its error (None when there is none)."""
    if not judged.any():
        return None
    y = frame.loc[judged, "outcome"].to_numpy().astype(int)
    s = frame.loc[judged, "score"].to_numpy(dtype="float64")
    threshold = selective.decided_threshold(frame, reference.threshold)
    covered = selective.population(frame, judged)
    test = reference.scores[selective.region(reference.scores, threshold, covered)]
    base = selective.baseline(
        reference.labels,
        reference.scores,
        threshold,
        covered,
        estimated=reference.estimated_auc(test),
        costs=costs,
    )
    found = P.realised(
        y,
        s,
        threshold,
        costs,
        base.roc_auc,
        edges=edges,
        estimated=reference.estimated_auc(s),
        baseline=base,
        auc_dev_se=base.roc_auc_se,
    )
    return found
