"""report.html: one self-contained page (inline CSS and SVG, no network, no library).

Charts: score distribution of the reference vs the window, per-feature drift (each feature's
statistic, PSI or the configured distance, against that statistic's thresholds), and estimated
vs realised ROC AUC over recent runs on one time axis (each run at its window's end). A
Content-Security-Policy forbids every fetch; a few lines of inline script only count the drawn
charts (`data-charts-drawn` on <body>) for the headless-browser test. The page holds everything
report.md holds: the signals, the performance and calibration section with its grade table, the
drift table and the notes (the Markdown sections converted, escaped, by `sections`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from typing import Callable

from kaizen.format import COLOURS as LEVEL_COLOURS
from kaizen.format import fmt, is_number, worst_first
from kaizen.monitoring.drift_signals import FEATURE
from kaizen.monitoring.levels import Signal
from kaizen.monitoring import render
from kaizen.monitoring.report import MonitorReport, ScoreHistogram, TrendPoint

WIDTH, HEIGHT, PAD = 640, 260, 44
COLOURS = {
    "reference": "#7f7f7f",
    "window": "#1f77b4",
    "estimated": "#1f77b4",
    "realised": "#d62728",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px}
th{background:#f4f4f4}td.n{text-align:right}.chart{margin:12px 0}
svg text{font:11px system-ui,sans-serif;fill:#333}.muted{color:#666}
"""
SCRIPT = """
document.addEventListener("DOMContentLoaded", function () {
  var drawn = 0, charts = document.querySelectorAll("svg.chart");
  charts.forEach(function (svg) { var box = svg.getBBox(); if (box.width > 0 && box.height > 0
    && svg.querySelectorAll("[data-series]").length > 0) { drawn += 1; } });
  document.body.setAttribute("data-charts-drawn", drawn + "/" + charts.length);
});
"""


def _e(value) -> str:
    """Escaped text."""
    return html.escape(str(value), quote=True)


def _scale(low: float, high: float, start: float, end: float):
    """Linear map [low, high] -> [start, end]."""
    span = (high - low) or 1.0
    return lambda value: start + (value - low) / span * (end - start)


def _frame(chart_id: str, title: str, body: list[str], height: int = HEIGHT) -> str:
    """An SVG chart in a figure."""
    return (
        f'<figure class="chart" id="{chart_id}"><figcaption>{_e(title)}</figcaption>'
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg></figure>"
    )


def _axes(x_label: str, y_label: str, y_ticks: list[tuple[float, str]], height=HEIGHT) -> list:
    """Axis lines, y ticks and labels."""
    bottom = height - PAD
    parts = [
        f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{PAD}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{WIDTH / 2}" y="{height - 8}" text-anchor="middle">{_e(x_label)}</text>',
        f'<text x="12" y="{height / 2}" transform="rotate(-90 12 {height / 2})" '
        f'text-anchor="middle">{_e(y_label)}</text>',
    ]
    for y, label in y_ticks:
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{_e(label)}</text>')
    return parts


def _legend(items: list[tuple[str, str]]) -> list[str]:
    """Colour keys at the top right."""
    parts = []
    for index, (label, colour) in enumerate(items):
        x = WIDTH - 170
        y = 16 + 16 * index
        parts.append(f'<rect x="{x}" y="{y - 9}" width="12" height="3" fill="{colour}"/>')
        parts.append(f'<text x="{x + 18}" y="{y - 4}">{_e(label)}</text>')
    return parts


def score_chart(histogram: ScoreHistogram) -> str:
    """Share of scores per bin on [0, 1]: reference (test split) vs window."""
    edges = histogram.edges
    top = max(max(histogram.reference, default=0), max(histogram.window, default=0), 0.01)
    x = _scale(0, 1, PAD, WIDTH - 10)
    y = _scale(0, top, HEIGHT - PAD, PAD / 2)
    body = _axes("score", "share of scores", [(y(0), "0"), (y(top), fmt(round(top, 2)))])
    for name, shares in (("reference", histogram.reference), ("window", histogram.window)):
        points = " ".join(
            f"{x((edges[i] + edges[i + 1]) / 2):.1f},{y(share):.1f}"
            for i, share in enumerate(shares)
        )
        body.append(
            f'<polyline data-series="{name}" points="{points}" fill="none" '
            f'stroke="{COLOURS[name]}" stroke-width="2"/>'
        )
    for tick in (0, 0.25, 0.5, 0.75, 1):
        body.append(
            f'<text x="{x(tick):.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle">{tick}</text>'
        )
    body += _legend(
        [("reference (test split)", COLOURS["reference"]), ("window", COLOURS["window"])]
    )
    return _frame("chart-scores", "Score distribution: reference vs window", body)


def drift_chart(rows: list[Signal]) -> str:
    """Each feature's drift statistic (horizontal bars, coloured by level) against that
    statistic's own thresholds: one panel per statistic (PSI, W₁/σ, JS) when methods differ."""
    panels: dict[tuple, list[Signal]] = {}
    for item in rows[:20]:
        panels.setdefault((item.statistic, item.warning, item.critical), []).append(item)
    body: list[str] = []
    y = 8
    for items in panels.values():
        y = _drift_panel(items, y, body)
    title = "Per-feature drift: each feature's statistic against that statistic's thresholds"
    return _frame("chart-drift", title, body, y + 10)


def _drift_panel(items: list[Signal], top_y: int, body: list[str]) -> int:
    """One statistic's bars and threshold lines, from `top_y` down; the y below the panel."""
    left = 150
    statistic, warning, critical = items[0].statistic, items[0].warning, items[0].critical
    thresholds = [t for t in (warning, critical) if t is not None]
    top = max([t * 1.2 for t in thresholds] + [item.value or 0.0 for item in items] + [1e-6])
    x = _scale(0, top, left, WIDTH - 60)  # room for the value after the longest bar
    body.append(f'<text x="{left}" y="{top_y + 10}" font-weight="bold">{_e(statistic)}</text>')
    first = y = top_y + 18
    for item in items:
        feature = item.name.removeprefix(FEATURE)
        width = max(x(item.value or 0.0) - left, 1)
        body.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{_e(feature)}</text>')
        body.append(
            f'<rect data-series="{_e(feature)}" x="{left}" y="{y}" width="{width:.1f}" '
            f'height="13" fill="{LEVEL_COLOURS[item.level]}"><title>{_e(item.level)}: '
            f"{_e(statistic)} {fmt(item.value)}</title></rect>"
        )
        body.append(f'<text x="{left + width + 4:.1f}" y="{y + 11}">{fmt(item.value)}</text>')
        y += 18
    labels = (
        [(warning, f"warning = critical {fmt(warning)}")]
        if warning == critical
        else [(warning, f"warning {fmt(warning)}"), (critical, f"critical {fmt(critical)}")]
    )
    for index, (threshold, label) in enumerate(labels):
        if threshold is None:
            continue
        body.append(
            f'<line x1="{x(threshold):.1f}" y1="{first - 4}" x2="{x(threshold):.1f}" '
            f'y2="{y}" stroke="#555" stroke-dasharray="4 3"/>'
        )
        body.append(f'<text x="{x(threshold) + 3:.1f}" y="{y + 12 + 12 * index}">{label}</text>')
    return y + 12 + 12 * len(labels) + 8


def _time_axis(times: list[dt.datetime]) -> tuple[Callable[[dt.datetime], float], list[str]]:
    """x of a time on the trend chart (one time: the middle), and its tick labels: the first,
    middle and last times (dates; with the hour when they span under two days)."""
    left, right = PAD + 10, WIDTH - 20
    if not times:
        return lambda at: (left + right) / 2, []
    first, last = min(times), max(times)
    if first == last:
        ticks = [(first, "middle")]
        scale = _scale(first.timestamp() - 1, first.timestamp() + 1, left, right)
    else:
        ticks = [(first, "start"), (first + (last - first) / 2, "middle"), (last, "end")]
        scale = _scale(first.timestamp(), last.timestamp(), left, right)
    form = "%Y-%m-%d" if last - first >= dt.timedelta(days=2) else "%Y-%m-%d %H:%M"

    def x(at: dt.datetime) -> float:
        return scale(at.timestamp())

    return x, [
        f'<text x="{x(tick):.1f}" y="{HEIGHT - PAD + 14}" text-anchor="{anchor}">'
        f"{tick.strftime(form)}</text>"
        for tick, anchor in ticks
    ]


def trend_chart(points: list[TrendPoint], reference_auc: float | None) -> str:
    """Estimated (with a ± 1 s.e. band) and realised ROC AUC per run, every series on one time
    axis: each run at the end of its window (a run without a time cannot be placed)."""
    series: dict[str, list[tuple[dt.datetime, float]]] = {
        "estimated": [
            (p.at, p.estimated_auc) for p in points if p.at and is_number(p.estimated_auc)
        ],
        "realised": [(p.at, p.realised_auc) for p in points if p.at and is_number(p.realised_auc)],
    }
    series = {key: sorted(found) for key, found in series.items()}
    values = [v for found in series.values() for _, v in found]
    values += [reference_auc] if is_number(reference_auc) else []
    low = max(0.0, math.floor((min(values, default=0.5) - 0.03) * 100) / 100)
    high = min(1.0, math.ceil((max(values, default=0.5) + 0.03) * 100) / 100)
    x, ticks = _time_axis([at for found in series.values() for at, _ in found])
    y = _scale(low, high, HEIGHT - PAD, PAD / 2)
    body = _axes(
        "end of the run's window (UTC)", "ROC AUC", [(y(low), fmt(low)), (y(high), fmt(high))]
    )
    body += ticks
    se = {p.at: p.estimated_auc_se for p in points if is_number(p.estimated_auc_se)}
    band = [(x(at), v, se.get(at, 0.0)) for at, v in series["estimated"]]
    if band:
        upper = [f"{at:.1f},{y(v + e):.1f}" for at, v, e in band]
        lower = [f"{at:.1f},{y(v - e):.1f}" for at, v, e in reversed(band)]
        body.append(f'<polygon points="{" ".join(upper + lower)}" fill="#1f77b4" opacity="0.15"/>')
    if reference_auc is not None:
        body.append(
            f'<line x1="{PAD}" y1="{y(reference_auc):.1f}" x2="{WIDTH - 10}" '
            f'y2="{y(reference_auc):.1f}" stroke="#7f7f7f" stroke-dasharray="4 3"/>'
        )
    for key, found in series.items():
        if len(found) > 1:
            line = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in found)
            body.append(
                f'<polyline points="{line}" fill="none" stroke="{COLOURS[key]}" stroke-width="2"/>'
            )
        for at, v in found:
            body.append(
                f'<circle data-series="{key}" data-at="{at.isoformat()}" cx="{x(at):.1f}" '
                f'cy="{y(v):.1f}" r="3.5" fill="{COLOURS[key]}"><title>{key} {fmt(v)}, '
                f"{at.isoformat()}</title></circle>"
            )
    body += _legend(
        [
            ("estimated (± 1 s.e.)", COLOURS["estimated"]),
            ("realised", COLOURS["realised"]),
            ("test split (evaluate)", COLOURS["reference"]),
        ]
    )
    if not any(series.values()):
        body.append(
            f'<text data-series="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" '
            'text-anchor="middle">no estimate yet</text>'
        )
    return _frame("chart-trend", "Estimated vs realised ROC AUC over recent runs", body)


def shown(value, *others) -> str:
    """`value` as `fmt` shows it, with every digit when it would read equal to a threshold it
    differs from (0.020003 against a 0.02 warning must not read as 0.02 and "ok")."""
    text = fmt(value)
    if is_number(value) and any(
        is_number(o) and o != value and fmt(o) == text for o in others if o is not None
    ):
        return f"{float(value):.10g}"
    return text


def signals_rows(signals: list[Signal]) -> str:
    """The signals table body, worst first; the statistic says what value and thresholds are."""
    rows = []
    for item in worst_first(signals, lambda s: s.level):
        limits = (item.warning, item.critical)
        numbers = (shown(item.value, *limits), fmt(item.reference), *map(fmt, limits))
        rows.append(
            f"<tr><td><code>{_e(item.name)}</code></td>"
            f'<td style="color:{LEVEL_COLOURS[item.level]}">● {_e(item.level)}</td>'
            f"<td>{_e(item.statistic)}</td>"
            + "".join(f'<td class="n">{number}</td>' for number in numbers)
            + f"<td>{_e(item.detail)}</td></tr>"
        )
    return "".join(rows)


INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    """Escaped text with `code` and **bold** of the report's Markdown."""
    out, last = [], 0
    for match in INLINE.finditer(text):
        out.append(_e(text[last : match.start()]))
        code, bold = match.groups()
        out.append(f"<code>{_e(code)}</code>" if code is not None else f"<b>{_e(bold)}</b>")
        last = match.end()
    return "".join(out) + _e(text[last:])


def sections(markdown: str) -> str:
    """The report's own Markdown (headings, pipe tables, bullets, paragraphs, as render writes
    them) as HTML: one source for both files, so that the page lacks nothing report.md has."""
    out: list[str] = []
    blocks = [block for block in markdown.strip().split("\n\n") if block.strip()]
    for block in blocks:
        lines = block.strip().splitlines()
        if lines[0].startswith("#"):
            level = min(len(lines[0]) - len(lines[0].lstrip("#")) + 1, 4)
            out.append(f"<h{level}>{_inline(lines[0].lstrip('#').strip())}</h{level}>")
            lines = lines[1:]
        if not lines:
            continue
        if lines[0].startswith("|"):
            cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
            head, body = cells[0], cells[2:]
            out.append(
                "<table><thead><tr>"
                + "".join(f"<th>{_inline(c)}</th>" for c in head)
                + "</tr></thead><tbody>"
                + "".join(
                    "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                    for row in body
                )
                + "</tbody></table>"
            )
        elif lines[0].startswith("- "):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "\n".join(out)


def page(report: MonitorReport) -> str:
    """The whole report.html."""
    level, window, est = report.level, report.window, report.estimated
    since = "last events" if window.since is None else window.since.isoformat()
    notes = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    charts = [
        score_chart(report.charts.scores),
        drift_chart(report.feature_rows),
        trend_chart(report.charts.history, report.reference.roc_auc),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>Kaizen monitoring: {_e(level)}</title><style>{STYLE}</style>
<script>{SCRIPT}</script></head>
<body>
<h1 style="color:{LEVEL_COLOURS[level]}">Kaizen monitoring: ● {_e(level)}</h1>
<p>Window {_e(since)} → {_e(window.until.isoformat())}: {fmt(window.events)}
events, {fmt(window.labelled)} with an outcome ({fmt(window.matured_labelled)} matured).
Exit code {report.exit_code} (2 = critical). Estimated ROC AUC {fmt(est.roc_auc)} ±
{fmt(est.roc_auc_se)} (test split {fmt(report.reference.roc_auc)}).</p>
<h2>Charts</h2>
{''.join(charts)}
<h2>Signals</h2>
<table><thead><tr><th>signal</th><th>level</th><th>statistic</th><th>value</th><th>reference</th>
<th>warning</th><th>critical</th><th>detail</th></tr></thead><tbody>{signals_rows(report.signals)}</tbody></table>
{sections(render.performance_section(report))}
{sections(render.drift_section(report))}
<h2>Notes</h2><ul>{notes}</ul>
<p class="muted">Calibration evidence: {_e(report.calibration.summary)}.</p>
{''.join(version_section(section) for section in report.sections)}
</body></html>
"""


def version_section(section: MonitorReport) -> str:
    """Another model version of the window: its signals, judged against its own bundle."""
    return f"""<h2 style="color:{LEVEL_COLOURS[section.level]}">Model version {_e(section.version)}:
● {_e(section.level)}</h2>
<p>{fmt(section.window.events)} events scored by this version, judged against its own registered
bundle (threshold {fmt(section.reference.threshold)}).</p>
<table><thead><tr><th>signal</th><th>level</th><th>statistic</th><th>value</th><th>reference</th>
<th>warning</th><th>critical</th><th>detail</th></tr></thead><tbody>{signals_rows(section.signals)}</tbody></table>
{sections(render.performance_section(section))}
"""
