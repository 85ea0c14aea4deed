"""Shared report helpers: number formatting, metric-direction marks, the level order."""

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
    assert R.fmt(None) == "–" and R.fmt(float("nan")) == "–" and R.fmt(float("inf")) == "–"
    assert R.fmt("psi") == "psi"


def test_p_value():
    """Tiny p-values as < 0.001, others as fmt."""
    assert R.p_value(0.0002) == "< 0.001"
    assert R.p_value(0.05) == "0.05" and R.p_value(None) == "–"


def test_one_level_order():
    """ok < warning < critical; insufficient data apart: below ok, listed last."""
    assert R.LEVELS == ("ok", "warning", "critical")
    assert R.worst(["ok", "insufficient data", "warning"]) == "warning"
    assert R.worst(["insufficient data"]) == "insufficient data" and R.worst([]) == "ok"
    assert [R.flagged(level) for level in (*R.LEVELS, R.INSUFFICIENT)] == [
        False,
        True,
        True,
        False,
    ]
    levels = ["ok", "insufficient data", "critical", "warning"]
    assert R.worst_first(levels, str) == ["critical", "warning", "ok", "insufficient data"]


def test_drift_verdicts_map_to_levels():
    """Every drift-stage verdict reads as one level, with that level's icon."""
    from kaizen.drift import verdicts  # pylint: disable=import-outside-toplevel

    assert set(R.LEVEL_OF_VERDICT) == set(verdicts.SEVERITY)
    assert R.LEVEL_OF_VERDICT[verdicts.DRIFT] == "critical"
    assert R.LEVEL_OF_VERDICT[verdicts.STABLE] == "ok"
    assert R.VERDICT_ICONS[verdicts.DRIFT] == R.ICONS["critical"]
