"""Signals on the model's performance: estimated from the scores (CBPE) on every window, realised
on matured labelled events (ECB AUC test, calibration by grade, cost, the estimate's error)."""

from __future__ import annotations

import math

import pandas as pd

from kaizen.config import Params
from kaizen.format import fmt, p_value
from kaizen.monitoring import performance as P
from kaizen.monitoring.levels import Signal, by_threshold, signal
from kaizen.monitoring.window import Reference


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
            detail=f"CBPE from the scores, s.e. {fmt(estimate.roc_auc_se)}{caveat}",
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
            detail=f"mean score, s.e. {fmt(estimate.default_rate_se)}; thresholds on the change",
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
    return f"{what}: S = {fmt(test['statistic'])}, one-sided p = {p_value(test['p_value'])}"


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
