"""report.md (the PR report's style) and metrics.prom (Prometheus text format) of a monitor run."""

from __future__ import annotations

import math

from kaizen.drift.rendering import features_table
from kaizen.format import ICONS, LEVEL_VALUES, details, fmt, p_value, worst_first

TOP_FEATURES = 10


def signals_table(signals: list[dict]) -> str:
    """One row per signal, worst first (insufficient data last)."""
    rows = [
        "| signal | level | value | reference | warning | critical | detail |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for item in worst_first(sorted(signals, key=lambda s: s["name"]), lambda s: s["level"]):
        rows.append(
            f"| `{item['name']}` | {ICONS[item['level']]} {item['level']} | "
            f"{fmt(item.get('value'))} | {fmt(item.get('reference'))} | "
            f"{fmt(item.get('warning'))} | {fmt(item.get('critical'))} | "
            f"{item.get('detail', '')} |"
        )
    return "\n".join(rows)


def performance_section(report: dict) -> str:
    """Estimated (with its band and caveats) and realised performance against the test split."""
    est, ref = report["estimated"], report["reference"]
    real = report.get("realised") or {}
    lines = [
        "### Performance: estimated from the scores, realised on matured outcomes",
        "",
        "| metric | test split (evaluate) | estimated (± 1 s.e.) | realised (matured) |",
        "|---|--:|--:|--:|",
        f"| ROC AUC | {fmt(ref.get('roc_auc'))} | {_band(est, 'roc_auc')} | "
        f"{fmt(real.get('roc_auc'))} |",
        f"| default rate | {fmt(ref.get('default_rate'))} | {_band(est, 'default_rate')} | "
        f"{fmt(real.get('default_rate'))} |",
        f"| cost per application | {fmt(ref.get('cost'))} | {_band(est, 'cost')} | "
        f"{fmt(real.get('cost'))} |",
        "",
        f"Calibration evidence: {report['calibration']['summary']}.",
    ]
    if not est.get("supported", True):
        lines.append(f"**Warning: {est['caveat']}.**")
    if real:
        test = real.get("auc_test") or {}
        lines.append(
            f"Realised on {fmt(real['rows'])} matured labelled events ({fmt(real['defaults'])} "
            "defaults)"
            f"; Gini {fmt(real.get('gini'))}, KS {fmt(real.get('ks'))}; AUC-decline test "
            f"S = {fmt(test.get('statistic'))}, p = {p_value(test.get('p_value'))}; estimate "
            f"on the same events {fmt(real.get('estimated_auc'))} "
            f"(error {fmt(real.get('estimate_error'))})."
        )
        lines += ["", grades_table(real.get("grades") or [])]
    lines += ["", "Assumptions of the estimate: " + "; ".join(est.get("assumptions", [])) + "."]
    return "\n".join(lines)


def _band(estimate: dict, key: str) -> str:
    """value ± s.e."""
    value, se = estimate.get(key), estimate.get(f"{key}_se")
    if value is None:
        return "–"
    return f"{fmt(value)} ± {fmt(se)}" if se is not None else fmt(value)


def grades_table(grades: list[dict]) -> str:
    """Calibration by grade with the one-sided Jeffreys p-value."""
    rows = [
        "| grade | scores | events | defaults | PD | default rate | Jeffreys p |",
        "|--:|---|--:|--:|--:|--:|--:|",
    ]
    for g in grades:
        rows.append(
            f"| {g['grade']} | [{fmt(g['low'])}, {fmt(g['high'])}) | {fmt(g['rows'])} | "
            f"{fmt(g['defaults'])} | {fmt(g['pd'])} | {fmt(g['default_rate'])} | "
            f"{p_value(g['p_value'])} |"
        )
    return details("Calibration by grade (Jeffreys test)", "\n".join(rows))


def markdown(report: dict) -> str:
    """The whole report.md."""
    window = report["window"]
    level = report["level"]
    span = f"{window['since'] or 'the last events'} → {window['until']}"
    drift = report["drift"]
    lines = [
        f"## Kaizen monitoring: {ICONS[level]} {level}",
        "",
        f"Window {span}: {fmt(window['events'])} events, {fmt(window['labelled'])} with an "
        f"outcome ({fmt(window['matured_labelled'])} matured). Exit code {report['exit_code']} "
        "(2 = critical).",
        "",
        signals_table(report["signals"]),
        "",
        performance_section(report),
        "",
        f"### Data drift: {drift['verdict']}",
        "",
        f"{drift['features_drift']} of {drift['features_total']} features drifted, score PSI "
        f"{fmt(drift.get('score_psi'))} ({drift['score_verdict']}).",
        "",
        features_table(drift["features"][:TOP_FEATURES]),
    ]
    if report.get("notes"):
        lines += ["", "### Notes", ""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    """A Prometheus label value, escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value) -> str | None:
    """Prometheus sample value, None when missing."""
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if not math.isfinite(value) else repr(value)


def prometheus(report: dict, timestamp: float) -> str:
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
        [({}, LEVEL_VALUES[report["level"]])],
    )
    gauge(
        "kaizen_monitor_signal_level",
        "Level per signal: -1 insufficient data, 0 ok, 1 warning, 2 critical.",
        [({"signal": s["name"]}, LEVEL_VALUES[s["level"]]) for s in report["signals"]],
    )
    gauge(
        "kaizen_monitor_signal_value",
        "Value per signal (PSI, rate, ROC AUC, p-value or cost, see the signal).",
        [({"signal": s["name"]}, s.get("value")) for s in report["signals"]],
    )
    window = report["window"]
    gauge("kaizen_monitor_window_events", "Events in the window.", [({}, window["events"])])
    gauge(
        "kaizen_monitor_window_labelled_events",
        "Events of the window with a matured outcome.",
        [({}, window["matured_labelled"])],
    )
    gauge(
        "kaizen_monitor_estimated_roc_auc",
        "ROC AUC estimated from the scores (CBPE).",
        [({}, report["estimated"].get("roc_auc"))],
    )
    gauge(
        "kaizen_monitor_realised_roc_auc",
        "ROC AUC on matured labelled events.",
        [({}, (report.get("realised") or {}).get("roc_auc"))],
    )
    gauge(
        "kaizen_monitor_last_run_timestamp_seconds",
        "Unix time of this monitor run.",
        [({}, timestamp)],
    )
    return "\n".join(lines) + "\n"
