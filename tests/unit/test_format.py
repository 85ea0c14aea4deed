"""Markdown helpers: number formatting and metric-direction marks."""

from __future__ import annotations

from kaizen import format as R


def test_mark_follows_direction():
    """An improvement is ✅ whichever way the metric points; no change or neutral is –."""
    assert R.mark("current.roc_auc", 0.80, 0.82) == "✅"
    assert R.mark("current.roc_auc", 0.82, 0.80) == "❌"
    assert R.mark("current.brier", 0.14, 0.13) == "✅"
    assert R.mark("current.fn", 20, 25) == "❌"
    assert R.mark("current.rows", 100, 200) == "–"
    assert R.mark("current.roc_auc", 0.8, 0.8) == "–"
    assert R.mark("current.roc_auc", None, 0.8) == "–"


def test_fmt():
    """Short numbers: 4 decimals, thousands separators, signs on request, dash for missing."""
    assert R.fmt(0.838372) == "0.8384"
    assert R.fmt(1975) == "1,975"
    assert R.fmt(0.006, signed=True) == "+0.006"
    assert R.fmt(-3, signed=True) == "-3"
    assert R.fmt(0, signed=True) == "0"
    assert R.fmt(0.00001234) == "1.2e-05"
    assert R.fmt(None) == "–"
    assert R.fmt("psi") == "psi"
