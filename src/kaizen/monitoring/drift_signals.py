"""Signals on the window's inputs and traffic: per-feature and score drift, missing shares,
unseen levels (from kaizen.drift's verdicts), the refusal rate and the event volume.

Each drift signal's value is the statistic its level was judged on, with that statistic's
thresholds: with `drift.numeric_method: wasserstein` a numeric feature's row is W₁/σ against
`drift.distance_threshold`, not its PSI against the PSI thresholds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kaizen.drift import verdicts
from kaizen.format import (
    CRITICAL,
    LEVEL_OF_VERDICT,
    OK,
    STATISTICS,
    WARNING,
    fmt,
    p_value,
    worst,
)
from kaizen.monitoring.levels import Signal, by_threshold, signal
from kaizen.monitoring.window import Reference, Window

FEATURE = "feature:"  # name prefix of the per-feature drift signals


def drift_signals(report: verdicts.DriftReport) -> list[Signal]:
    """Per-feature distribution drift, score drift, missing-share and unseen-level changes.

    Their levels are the drift verdicts', whose guards come from power (kaizen.drift.power):
    not from monitor.min_events, which counts events where the tests need non-missing values."""
    config = report.config
    out = []
    for item in report.features:
        part = item.components.get("distribution", {})
        verdict = part.get("verdict", verdicts.INSUFFICIENT)
        breach = LEVEL_OF_VERDICT[verdict]
        statistic = STATISTICS[verdicts.effect_name(item.method)]
        warning, alert = verdicts.component_thresholds("distribution", item.method, config)
        test = (
            f"{item.test} adjusted p = {p_value(part.get('p_adjusted'))}, "
            f"power {fmt(part.get('power'))}"
        )
        also = "" if statistic == STATISTICS["psi"] else f"; PSI {fmt(item.psi)}"
        out.append(
            signal(
                f"{FEATURE}{item.feature}",
                breach,
                "drift",
                value=part.get("effect"),
                warning=warning,
                critical=alert,
                statistic=statistic,
                detail=f"{statistic}, {test}{also}",
            )
        )
    breach = LEVEL_OF_VERDICT[report.score_verdict]
    out.append(
        signal(
            "score_psi",
            breach,
            "drift",
            value=report.score_psi,
            warning=config.psi_warning,
            critical=config.psi_alert,
            statistic=STATISTICS["psi"],
            detail=(
                f"score PSI vs the test split's scores, chi2 p = {p_value(report.score_p_value)}"
            ),
        )
    )
    for component, name, statistic in (
        ("missing", "missing_rate", "missing-share change"),
        ("unseen", "unseen_levels", "unseen-level share"),
    ):
        warning, alert = verdicts.component_thresholds(component, "", config)
        parts = [
            (item.feature, item.components[component])
            for item in report.features
            if component in item.components
        ]
        level = worst(LEVEL_OF_VERDICT[part["verdict"]] for _, part in parts)
        values = [(part["effect"] or 0.0, feature) for feature, part in parts]
        value, feature = max(values, default=(None, ""))
        out.append(
            signal(
                name,
                level,
                "drift",
                value=value,
                warning=warning,
                critical=alert,
                statistic=statistic,
                detail=f"largest: {feature}" if feature and value else "",
            )
        )
    return out


def volume_signal(window: Window, previous_events: list[int], config) -> Signal:
    """Events in the window against the median of recent windows (time windows only)."""
    events = len(window.frame)
    facts = {"statistic": "events", "value": events}
    if not window.by_time:
        return signal("volume", OK, "volume", **facts, detail="last-N window: not judged")
    if events == 0:
        return signal("volume", CRITICAL, "volume", **facts, detail="no events in the window")
    if not previous_events:
        return signal("volume", OK, "volume", **facts, detail="no earlier window to compare")
    median = float(np.median(previous_events))
    ratio = events / median if median else math.inf
    return signal(
        "volume",
        WARNING if ratio < config.volume_warning else OK,
        "volume",
        value=float(events),
        warning=config.volume_warning * median,
        reference=median,
        statistic="events",
        detail=f"{fmt(ratio)} x the median of the last {len(previous_events)} windows",
    )


def decision_signal(window: Window, reference: Reference, config, enough: bool) -> Signal:
    """Change of the window's refusal rate from the test split's at the same threshold (the
    value judged; both rates in the detail)."""
    base = float(np.mean(reference.scores >= reference.threshold))
    decisions = window.frame["decision"] if "decision" in window.frame else pd.Series(dtype=str)
    rate = float((decisions == "refuse").mean()) if len(decisions) else None
    change = None if rate is None else abs(rate - base)
    return signal(
        "decision_rate",
        by_threshold(
            change if enough else None, config.decision_rate_warning, config.decision_rate_critical
        ),
        "drift",
        value=change,
        warning=config.decision_rate_warning,
        critical=config.decision_rate_critical,
        statistic="refusal-rate change",
        detail=f"refused {fmt(rate)} of the window vs {fmt(base)} of the test split",
    )
