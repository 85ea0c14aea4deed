"""report.md, metrics.prom and report.html of a monitor run."""

import dataclasses
import datetime as dt
import re
import shutil
import subprocess

import numpy as np
import pytest

from kaizen.monitoring import html, render
from kaizen.monitoring import signals as S
from kaizen.monitoring.report import MonitorReport, TrendPoint
from kaizen.monitoring.window import Window
from tests.unit.monitoring.conftest import NOW, params, window


@pytest.fixture(name="report")
def fixture_report(reference) -> MonitorReport:
    """A labelled, drifted window's report."""
    return S.analyse(
        window(1200, shift=0.6, labelled=True, matured=True),
        reference,
        params(outcome_window_days=0),
        [],
        NOW,
    )


def test_markdown_sections(report):
    """Level title, signals table worst first, performance, grades, drift table, notes."""
    text = render.markdown(report)
    assert text.startswith("## Kaizen monitoring: 🟠 warning")
    assert text.index("`feature:Income` | 🟠 warning") < text.index("| `volume` |")
    assert (
        "| ROC AUC | 0.75 (estimator: " in text and "Calibration by grade (Jeffreys test)" in text
    )
    assert "| feature | kind | PSI |" in text  # the one drift table renderer
    assert "Estimated performance assumes" in text


LINE = re.compile(r'^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? -?[0-9.e+-]+$')


def test_prometheus_text_format(report, tmp_path):
    """HELP/TYPE then samples; levels as numbers; promtool accepts it when installed."""
    text = render.prometheus(report, 1_780_000_000.0)
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(LINE.match(line) for line in samples), samples
    assert "kaizen_monitor_level 1" in text
    assert 'kaizen_monitor_signal_level{signal="feature:Income"} 1' in text
    assert "kaizen_monitor_last_run_timestamp_seconds 1780000000.0" in text
    if shutil.which("promtool"):
        path = tmp_path / "metrics.prom"
        path.write_text(text, encoding="utf-8")
        check = subprocess.run(
            ["promtool", "check", "metrics"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_html_is_self_contained(report):
    """No URL to fetch: a CSP forbidding it, inline SVG charts, text escaped."""
    page = html.page(report)
    assert "default-src 'none'" in page
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls == []
    assert page.count('<svg class="chart"') == 3
    for chart in ("chart-scores", "chart-drift", "chart-trend"):
        assert f'id="{chart}"' in page
    hostile = dataclasses.replace(report.signals[0], detail="<script>alert(1)</script>")
    report = dataclasses.replace(report, signals=[hostile, *report.signals[1:]])
    assert "<script>alert(1)" not in html.page(report)


def test_trend_chart_without_estimates():
    """No estimate yet: the chart says so instead of drawing nothing."""
    assert "no estimate yet" in html.trend_chart([TrendPoint(NOW, None, None, None, None)], None)


def test_trend_chart_puts_every_series_on_one_time_axis():
    """Runs 1 and 10 days after the first: x follows time, not the run's index; an estimate and
    a realised value of the same run share their x; the unordered input is drawn in time order."""
    start = NOW - dt.timedelta(days=10)
    points = [
        TrendPoint(start + dt.timedelta(days=1), 0.74, 0.01, None, "ok"),
        TrendPoint(start, 0.75, 0.01, 0.76, "ok"),
        TrendPoint(NOW, 0.70, 0.01, 0.71, "warning"),
    ]
    svg = html.trend_chart(points, 0.75)
    found = re.findall(r'data-series="(\w+)" data-at="([^"]+)" cx="([0-9.]+)"', svg)
    x = {(key, dt.datetime.fromisoformat(at)): float(cx) for key, at, cx in found}
    first, second, last = (
        x[("estimated", at)] for at in (start, start + dt.timedelta(days=1), NOW)
    )
    assert (second - first) / (last - first) == pytest.approx(0.1, abs=0.01)
    assert x[("realised", start)] == first and x[("realised", NOW)] == last
    assert start.strftime("%Y-%m-%d") in svg and NOW.strftime("%Y-%m-%d") in svg


def test_this_run_sits_at_its_window_end(reference):
    """The run's own trend point is at --until (its window's end), as stored runs are, not at
    the time it ran."""
    until = NOW - dt.timedelta(days=3)
    late = window(600)
    late = Window(late.frame, until - dt.timedelta(days=7), until)
    history = [{"events": 600, "until": (until - dt.timedelta(days=7)).isoformat(), "signals": {}}]
    report = S.analyse(late, reference, params(), history, NOW)
    assert [point.at for point in report.charts.history] == [until - dt.timedelta(days=7), until]
    assert report.generated_at == NOW


def test_accepted_outcomes_are_reported_like_for_like(reference):
    """Outcomes of accepted applications only: the population and its test-split baseline are
    named, refused applicants said to have no outcome, refused grades not back-tested; the
    accepted estimate reported beside the through-the-door one."""
    drawn = window(1500, labelled=True, matured=True)
    drawn.frame.loc[drawn.frame["decision"] == "refuse", "outcome"] = np.nan
    found = S.analyse(drawn, reference, params(outcome_window_days=0), [], NOW)
    text = render.markdown(found)
    assert "Realised figures cover accepted applicants" in text
    assert "test split's accepted applicants (score < 0.3), n = " in text
    assert "Refused applicants never get an outcome" in text
    assert "not back-tested (refused region) |" in text
    assert "accepted applications only (" in text
    assert found.realised is not None and found.realised.untested
    assert found.realised.baseline.population == "accepted applicants"
    auc = found.signal("realised_auc")
    assert auc.reference == pytest.approx(found.realised.baseline.roc_auc)


def test_html_holds_every_table_of_the_markdown(report):
    """report.html lacks nothing report.md has: each table's header and every grade and feature
    row of the Markdown is a row of the page (issue 23: HTML had no performance, calibration or
    drift table, and an assumption pointed "below" at nothing)."""
    text, page = render.markdown(report), html.page(report)
    headers = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(headers) > 10
    for line in headers:
        first = line.strip("|").split("|")[0].strip().strip("`")
        assert html.html.escape(first) in page, first
    assert "Calibration by grade" in page and "Data drift" in page
    assert "Estimated performance assumes" in page and "<table>" in page


def test_a_value_equal_to_its_threshold_after_rounding_shows_every_digit():
    """0.020003 against a 0.02 warning reads 0.020003, not 0.02 next to a level of ok."""
    assert html.shown(0.020003, 0.02, 0.05) == "0.020003"
    assert html.shown(0.0213, 0.02, 0.05) == "0.0213"
    assert html.shown(0.02, 0.02, 0.05) == "0.02"
    assert html.shown(None, 0.02) == "–"


def test_markdown_sections_convert_escaped():
    """Headings, tables, bullets and paragraphs; inline code and bold; nothing unescaped."""
    text = "### Title `x`\n\n| a | b |\n|---|---|\n| <i> | **y** |\n\n- one\n- two\n\nend <b>"
    out = html.sections(text)
    assert out.startswith("<h4>Title <code>x</code></h4>")
    assert "<td>&lt;i&gt;</td><td><b>y</b></td>" in out
    assert "<ul><li>one</li><li>two</li></ul>" in out and out.endswith("<p>end &lt;b&gt;</p>")
