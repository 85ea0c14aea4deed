"""report.md (the PR report's style) and metrics.prom (Prometheus text format) of a monitor run."""

from __future__ import annotations

import math

from kaizen.drift.rendering import features_table
from kaizen.drift.verdicts import DRIFT
from kaizen.format import ICONS, LEVEL_VALUES, details, fmt, p_value, worst_first
from kaizen.monitoring.levels import Signal
from kaizen.monitoring.performance import Grade
from kaizen.monitoring.report import DIGITS, MonitorReport

TOP_FEATURES = 10


def signals_table(signals: list[Signal]) -> str:
    """One row per signal, worst first (insufficient data last)."""
    rows = [
        "| signal | level | statistic | value | reference | warning | critical | detail |",
        "|---|---|---|--:|--:|--:|--:|---|",
    ]
    for item in worst_first(sorted(signals, key=lambda s: s.name), lambda s: s.level):
        rows.append(
            f"| `{item.name}` | {ICONS[item.level]} {item.level} | {item.statistic or '–'} | "
            f"{fmt(item.value)} | "
            f"{fmt(item.reference)} | {fmt(item.warning)} | {fmt(item.critical)} | "
            f"{item.detail} |"
        )
    return "\n".join(rows)


def performance_section(report: MonitorReport) -> str:
    """Estimated (with its band and caveats) and realised performance against the test split."""
    est, ref, real = report.estimated, report.reference, report.realised
    auc, rate, cost = (
        (None, None, None) if real is None else (real.roc_auc, real.default_rate, real.cost)
    )
    lines = [
        "### Performance: estimated from the scores, realised on matured outcomes",
        "",
        "| metric | test split (evaluate) | estimated (± 1 s.e.) | realised (matured) |",
        "|---|--:|--:|--:|",
        f"| ROC AUC | {fmt(ref.roc_auc)} (estimator: {fmt(ref.estimated_auc)}) | "
        f"{_band(est.roc_auc, est.roc_auc_se)} | {fmt(auc)} |",
        f"| default rate | {fmt(ref.default_rate)} | "
        f"{_band(est.default_rate, est.default_rate_se)} | {fmt(rate)} |",
        f"| cost per application | {fmt(ref.cost)} | {_band(est.cost, est.cost_se)} | "
        f"{fmt(cost)} |",
        "",
        f"Calibration evidence: {report.calibration.summary}.",
    ]
    if not est.supported:
        lines.append(f"**Estimated performance: insufficient data: {est.caveat}.**")
    lines.append(
        "Estimated through the door (every event) against the same estimator on the test split"
        + _accepted(report)
        + "."
    )
    if real is not None:
        test, base = real.auc_test, real.baseline
        lines.append(
            f"Realised on {fmt(real.rows)} matured labelled events ({fmt(real.defaults)} "
            f"defaults); Gini {fmt(real.gini)}, KS {fmt(real.ks)}; AUC-decline test "
            f"S = {fmt(test.statistic)}, p = {p_value(test.p_value)}; estimate "
            f"on the same events {fmt(real.estimated_auc)} (error {fmt(real.estimate_error)})."
        )
        if base is not None:
            lines.append(
                f"Realised figures cover {base.population}, compared like for like with the "
                f"test split's {base.describe}: ROC AUC {_band(base.roc_auc, base.roc_auc_se)} "
                f"(DeLong), estimator {fmt(base.estimated_auc)}."
                + (
                    " Refused applicants never get an outcome: realised performance cannot see "
                    "the refused region (docs/monitoring-selective-labels.md)."
                    if base.population == "accepted applicants"
                    else ""
                )
            )
        lines += ["", grades_table(real.grades, real.untested)]
    lines += ["", "Assumptions of the estimate: " + "; ".join(est.assumptions) + "."]
    return "\n".join(lines)


def _band(value: float | None, se: float | None) -> str:
    """value ± s.e."""
    if fmt(value) == "–":
        return "–"
    return f"{fmt(value)} ± {fmt(se)}" if se is not None else fmt(value)


def _accepted(report: MonitorReport) -> str:
    """The accepted applications' estimate, reported beside the through-the-door one."""
    accepted = report.estimated_accepted
    if accepted is None or not accepted.rows:
        return ""
    return (
        f"; accepted applications only ({fmt(accepted.rows)} events): "
        f"{_band(accepted.roc_auc, accepted.roc_auc_se)}"
    )


def grades_table(grades: list[Grade], untested=()) -> str:
    """Calibration by grade with the two-sided Jeffreys p-value; grades without outcomes named
    ("not back-tested (refused region)"), never shown as passing."""
    rows = [
        "| grade | scores | events | defaults | PD | default rate | Jeffreys p (two-sided) |",
        "|--:|---|--:|--:|--:|--:|--:|",
    ]
    for g in grades:
        rows.append(
            f"| {g.grade} | [{fmt(g.low)}, {fmt(g.high)}) | {fmt(g.rows)} | {fmt(g.defaults)} "
            f"| {fmt(g.pd)} | {fmt(g.default_rate)} | {p_value(g.p_value)} |"
        )
    for u in untested:
        rows.append(f"| {u.grade} | [{fmt(u.low)}, {fmt(u.high)}) | 0 | – | – | – | {u.reason} |")
    return details("Calibration by grade (Jeffreys test)", "\n".join(rows))


def markdown(report: MonitorReport) -> str:
    """The whole report.md."""
    window, level = report.window, report.level
    since = "the last events" if window.since is None else window.since.isoformat()
    span = f"{since} → {window.until.isoformat()}"
    lines = [
        f"## Kaizen monitoring: {ICONS[level]} {level}",
        "",
        f"Window {span}: {fmt(window.events)} events, {fmt(window.labelled)} with an "
        f"outcome ({fmt(window.matured_labelled)} matured). Exit code {report.exit_code} "
        "(2 = critical).",
        "",
        signals_table(report.signals),
        "",
        performance_section(report),
        "",
        drift_section(report),
    ]
    if report.notes:
        lines += ["", "### Notes", ""] + [f"- {note}" for note in report.notes]
    for section in report.sections:
        lines += ["", version_section(section)]
    return "\n".join(lines) + "\n"


def drift_section(report: MonitorReport) -> str:
    """The data drift verdict and its worst features (report.md and report.html)."""
    drift = report.drift
    drifted = sum(item.verdict == DRIFT for item in drift.features)
    return "\n".join(
        [
            f"### Data drift: {drift.verdict}",
            "",
            f"{drifted} of {len(drift.features)} features drifted, score PSI "
            f"{fmt(drift.score_psi)} ({drift.score_verdict}).",
            "",
            features_table([item.to_dict() for item in drift.features[:TOP_FEATURES]]),
        ]
    )


def version_section(section: MonitorReport) -> str:
    """Another model version of the window, judged against its own registered bundle."""
    window = section.window
    return "\n".join(
        [
            f"## Model version {section.version}: {ICONS[section.level]} {section.level}",
            "",
            f"{fmt(window.events)} events of the window scored by this version, judged against "
            f"its own registered bundle (threshold {fmt(section.reference.threshold)}); "
            f"{fmt(window.matured_labelled)} matured outcomes.",
            "",
            signals_table(section.signals),
            "",
            performance_section(section),
        ]
    )


def _label(value: str) -> str:
    """A Prometheus label value, escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value) -> str | None:
    """Prometheus sample value (rounded as report.json), None when missing."""
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if not math.isfinite(value) else repr(round(value, DIGITS))


def prometheus(report: MonitorReport, timestamp: float) -> str:
    """Gauges of the run in Prometheus text exposition format."""
    lines = []

    def gauge(name: str, help_text: str, samples: list[tuple[dict, object]]) -> None:
        written = [(labels, _number(value)) for labels, value in samples]
        written = [(labels, value) for labels, value in written if value is not None]
        if not written:
            return
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge"])
        for labels, value in written:
            text = ",".join(f'{key}="{_label(str(item))}"' for key, item in labels.items())
            lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")

    gauge(
        "kaizen_monitor_level",
        "Overall level: -1 insufficient data, 0 ok, 1 warning, 2 critical.",
        [({}, LEVEL_VALUES[report.level])],
    )
    gauge(
        "kaizen_monitor_signal_level",
        "Level per signal: -1 insufficient data, 0 ok, 1 warning, 2 critical.",
        [({"signal": s.name}, LEVEL_VALUES[s.level]) for s in report.all_signals()],
    )

    def per_signal(value_of) -> list[tuple[dict, object]]:
        return [
            ({"signal": s.name, "statistic": s.statistic}, value_of(s))
            for s in report.all_signals()
        ]

    gauge(
        "kaizen_monitor_signal_value",
        "Value per signal, in its statistic (PSI, W1/sigma, JS, rate, ROC AUC, p-value, cost).",
        per_signal(lambda s: s.value),
    )
    gauge(
        "kaizen_monitor_signal_warning_threshold",
        "Warning threshold per signal, in its statistic.",
        per_signal(lambda s: s.warning),
    )
    gauge(
        "kaizen_monitor_signal_critical_threshold",
        "Critical threshold per signal, in its statistic.",
        per_signal(lambda s: s.critical),
    )
    window = report.window
    gauge("kaizen_monitor_window_events", "Events in the window.", [({}, window.events)])
    gauge(
        "kaizen_monitor_window_labelled_events",
        "Events of the window with a matured outcome.",
        [({}, window.matured_labelled)],
    )
    gauge(
        "kaizen_monitor_estimated_roc_auc",
        "ROC AUC estimated from the scores (CBPE).",
        [({}, report.estimated.roc_auc)],
    )
    gauge(
        "kaizen_monitor_realised_roc_auc",
        "ROC AUC on matured labelled events.",
        [({}, None if report.realised is None else report.realised.roc_auc)],
    )
    gauge(
        "kaizen_monitor_last_run_timestamp_seconds",
        "Unix time of this monitor run.",
        [({}, timestamp)],
    )
    return "\n".join(lines) + "\n"
