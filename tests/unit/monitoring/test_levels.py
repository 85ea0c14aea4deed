"""Levels by thresholds, the persistence rule and the overall level."""

from kaizen.monitoring import levels as L


def test_by_threshold():
    """Higher (or lower) is worse; no value is insufficient data."""
    assert L.by_threshold(0.3, 0.1, 0.25) == "critical"
    assert L.by_threshold(0.1, 0.1, 0.25) == "warning"
    assert L.by_threshold(0.05, 0.1, 0.25) == "ok"
    assert L.by_threshold(0.001, 0.05, 0.01, higher_is_worse=False) == "critical"
    assert L.by_threshold(None, 0.1, 0.25) == L.by_threshold(float("nan"), 0.1, 0.25)
    assert L.by_threshold(None, 0.1, 0.25) == "insufficient data"


def test_persistence_rule():
    """Critical only after N windows in a row over the critical threshold; else warning."""
    item = L.signal("x", "critical", "drift", value=1.0, detail="big")
    first = L.persist(item, [], 2)
    assert (first.level, first.breach) == ("warning", "critical")
    assert "crossed in 1 of the last 2 windows" in first.detail
    assert L.persist(item, ["critical"], 2).level == "critical"
    assert L.persist(item, ["critical", "ok"], 3).level == "warning"
    assert L.persist(item, ["critical", "critical"], 3).level == "critical"
    assert L.persist(item, [], 1).level == "critical"
    warn = L.signal("y", "warning", "drift")
    assert L.persist(warn, [], 3) == warn


def test_overall_level():
    """Worst level; a small quiet window is insufficient data."""
    ok, warn = L.signal("a", "ok", "drift"), L.signal("b", "warning", "drift")
    assert L.overall([ok, warn], 1000, 500) == "warning"
    assert L.overall([ok], 1000, 500) == "ok"
    assert L.overall([ok], 50, 500) == "insufficient data"
    assert L.overall([L.signal("c", "critical", "drift")], 50, 500) == "critical"


def test_an_unjudged_drift_signal_is_not_ok():
    """A feature whose test lacked power leaves the overall level insufficient data, not ok,
    even in a large window; unjudged performance (no outcomes yet) does not."""
    ok, unjudged = L.signal("a", "ok", "drift"), L.signal("feature:x", "insufficient data", "drift")
    assert L.overall([ok, unjudged], 1000, 500) == "insufficient data"
    assert L.overall([ok, unjudged, L.signal("b", "warning", "drift")], 1000, 500) == "warning"
    no_outcomes = L.signal("realised_auc", "insufficient data", "performance")
    assert L.overall([ok, no_outcomes], 1000, 500) == "ok"
