"""Mermaid ROC / precision-recall charts of base vs head."""

from __future__ import annotations

import re

import numpy as np

from kaizen.reporting import charts as R
from tests.unit.reporting.samples import pr_points, roc_points, scores


def test_roc_on_grid_is_a_monotone_curve_from_0_to_1():
    """21 points, non-decreasing, ending at 1."""
    values = R.roc_on_grid(roc_points(scores(0)))
    assert len(values) == R.GRID
    assert np.all(np.diff(values) >= 0)
    assert values[-1] == 1.0


def test_pr_on_grid_is_interpolated_precision():
    """Interpolated precision: the best precision at recall >= r, so it never increases."""
    points = pr_points(scores(0))
    values = R.pr_on_grid(points)
    assert len(values) == R.GRID
    assert np.all(np.diff(values) <= 1e-12)
    assert values[0] == 1.0
    assert values[-1] == max(p["precision"] for p in points if p["recall"] == 1.0)
    assert values[10] == max(p["precision"] for p in points if p["recall"] >= 0.5)


def test_mermaid_chart_syntax():
    """A fenced xychart-beta with a colour per line, fixed axes, and one `line` per series."""
    chart = R.mermaid_lines("ROC, test", "fpr", "tpr", {"base": [0, 0.5, 1], "head": [0, 0.7, 1]})
    lines = chart.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert lines[1].startswith("%%{init:") and "#9e9e9e, #1f77b4" in lines[1]
    assert lines[2] == "xychart-beta"
    assert 'title "ROC, test"' in chart
    assert 'x-axis "fpr" 0 --> 1' in chart and 'y-axis "tpr" 0 --> 1' in chart
    assert re.findall(r"line \[(.*)\]", chart) == ["0.000, 0.500, 1.000", "0.000, 0.700, 1.000"]


def test_curve_charts_base_vs_head():
    """ROC (with chance line) and PR per part; test curves are collapsed under current."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    curves = {
        (kind, part): (make(base), make(head))
        for kind, make in (("roc", roc_points), ("precision_recall", pr_points))
        for part in ("test", "current")
    }
    text = R.curve_charts(curves)
    assert text.count("xychart-beta") == 4
    assert text.count("    line [") == 2 * 3 + 2 * 2
    assert text.index('"ROC, current, out-of-time"') < text.index("<details>")
    assert "first report" not in text


def test_curve_charts_without_base():
    """First report: head lines only, and the legend says so."""
    head = scores(0)
    text = R.curve_charts({("roc", "current"): (None, roc_points(head))})
    assert text.count("    line [") == 2  # head + chance
    assert "no base curve: first report" in text
    assert R.curve_charts({}) == ""


# --- drift and data change ---------------------------------------------------------------------
