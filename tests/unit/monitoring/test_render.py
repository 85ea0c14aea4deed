"""report.md, metrics.prom and report.html of a monitor run."""

import re
import shutil
import subprocess

import pytest

from kaizen.monitoring import html, render
from kaizen.monitoring import signals as S
from tests.unit.monitoring.conftest import NOW, params, window


@pytest.fixture(name="report")
def fixture_report(reference) -> dict:
    """A labelled, drifted window's report."""
    found = S.analyse(
        window(1200, shift=0.6, labelled=True, matured=True),
        reference,
        params(outcome_window_days=0),
        [],
        NOW,
    )
    return found.to_dict()


def test_markdown_sections(report):
    """Level title, signals table worst first, performance, grades, drift table, notes."""
    text = render.markdown(report)
    assert text.startswith("## Kaizen monitoring: 🟠 warning")
    assert text.index("`feature:Income` | 🟠 warning") < text.index("| `volume` |")
    assert "| ROC AUC | 0.75 |" in text and "Calibration by grade (Jeffreys test)" in text
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
    page = html.page(report, (0.1, 0.25))
    assert "default-src 'none'" in page
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls == []
    assert page.count('<svg class="chart"') == 3
    for chart in ("chart-scores", "chart-drift", "chart-trend"):
        assert f'id="{chart}"' in page
    report["signals"][0]["detail"] = "<script>alert(1)</script>"
    assert "<script>alert(1)" not in html.page(report, (0.1, 0.25))


def test_trend_chart_without_estimates():
    """No estimate yet: the chart says so instead of drawing nothing."""
    assert "no estimate yet" in html.trend_chart([{"at": "x"}], None)
