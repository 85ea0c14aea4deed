"""Drift reports as Markdown: the per-feature table and the summary (rendering only)."""

from __future__ import annotations

import math


from kaizen.format import STATISTICS, VERDICT_ICONS
from kaizen.drift.verdicts import DRIFT, DriftReport, WARNING

ADJUSTMENTS = {
    "holm": "Holm-adjusted across all tests",
    "bh": "Benjamini-Hochberg-adjusted across all tests",
    "none": "not adjusted",
}


def _number(value: float | None, digits: int = 3) -> str:
    """A rounded number, or an en dash when missing."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _p_value(value: float | None) -> str:
    """p-values as p = 0.123 or p < 0.001."""
    if value is None:
        return "–"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _percent(value: float | None) -> str:
    """A share as a percentage with one decimal."""
    return "–" if value is None else f"{100 * value:.1f} %"


def _row(item: dict) -> str:
    """One table row, from a `features.json` record."""
    verdict = item.get("verdict", "?")
    shown = f"**{verdict}**" if verdict in (DRIFT, WARNING) else verdict
    test = f"{'KS' if item.get('test') == 'ks' else 'χ²'} {_p_value(item.get('p_value'))}"
    distance_name = str(item.get("distance_name", ""))
    name = STATISTICS.get(distance_name, distance_name)
    missing = item.get("missing_change")
    change = "–" if missing is None else f"{100 * missing:+.1f} pp"
    levels = item.get("unseen") or []
    unseen = ", ".join(f"`{name}`" for name in levels[:5])
    unseen += f" (+{len(levels) - 5})" if len(levels) > 5 else ""
    if levels and item.get("unseen_share") is not None:
        unseen += f" ({_percent(item['unseen_share'])})"
    flags = [name for name in item.get("flags") or [] if name != "distribution"]
    cells = [
        f"`{item.get('feature')}`",
        str(item.get("kind", "")),
        _number(item.get("psi")),
        test,
        "–" if item.get("distance") is None else f"{_number(item.get('distance'))} ({name})",
        change,
        unseen or "–",
        f"{VERDICT_ICONS.get(verdict, '')} {shown}".strip()
        + (f" ({', '.join(flags)})" if flags else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def features_table(features: list[dict]) -> str:
    """The per-feature drift table (the one renderer: drift summary, PR report, monitoring)."""
    rows = [
        "| feature | kind | PSI | test | distance | missing change | unseen | verdict |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    return "\n".join(rows + [_row(item) for item in features])


def summary_markdown(report: DriftReport) -> str:
    """Markdown for the PR comment: dataset verdict, score, target rate, features by severity."""
    facts = report.metrics()
    config = report.config
    lines = [
        f"**Dataset drift: {report.verdict}** ({facts['features_drift']} of "
        f"{facts['features_total']} features drifted, {facts['features_warning']} "
        f"warning{'s' * (facts['features_warning'] != 1)}; "
        f"reference {report.rows_reference:,} rows, current {report.rows_current:,} rows)",
        "",
    ]
    if report.rows_current < config.min_rows:
        lines += [
            f"The current part has {report.rows_current:,} rows, fewer than drift.min_rows = "
            f"{config.min_rows}: too few for a sound verdict.",
            "",
        ]
    lines += [
        f"- Score drift: PSI {_number(report.score_psi)} ({report.score_verdict})",
        f"- Target rate: reference {_percent(report.target_rate_reference)}, "
        f"current {_percent(report.target_rate_current)}",
        f"- Verdicts by {config.numeric_method} (numeric) and {config.categorical_method} "
        f"(categorical), each flag needing a significant test (alpha {config.alpha}, "
        f"{ADJUSTMENTS[config.multiple_testing]}) and an effect at its threshold: PSI warning "
        f"{config.psi_warning}, alert {config.psi_alert}; missing-share change "
        f"{config.missing_warning}/{config.missing_alert}; unseen-level share "
        f"{config.unseen_warning}/{config.unseen_alert}; distance {config.distance_threshold}; "
        f"stable only with power {config.min_power} against the warning effect, else "
        f"insufficient data; dataset drift at {config.dataset_share:.0%} "
        "of features drifted or score drift",
        "",
        features_table([item.to_dict() for item in report.features]),
    ]
    return "\n".join(lines) + "\n"
