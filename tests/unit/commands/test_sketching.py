"""Sketch mode's days: which are profiled (whole and over), which are read exactly; the monitor
falls back to the exact read for a --last window."""

from __future__ import annotations

import datetime as dt

from kaizen.commands import sketching
from kaizen.commands.monitor import sketch_mode
from kaizen.config import MonitorConfig

UTC = dt.timezone.utc


def at(day: int, hour: int = 0) -> dt.datetime:
    """2026-05-<day> <hour>:00 UTC."""
    return dt.datetime(2026, 5, day, hour, tzinfo=UTC)


def test_complete_days():
    """Whole days inside [since, until) and over by now; partial ends left out."""
    assert sketching.complete_days(at(1, 6), at(4, 6), at(10)) == [at(2), at(3)]
    assert sketching.complete_days(at(1), at(4), at(10)) == [at(1), at(2), at(3)]
    assert sketching.complete_days(at(1), at(4), at(3, 12)) == [at(1), at(2)]  # today: not over
    assert not sketching.complete_days(at(1, 1), at(1, 23), at(10))


def test_sketch_mode_only_for_time_windows():
    """exact: never; sketch: a --window, not --last N (read exactly)."""
    assert not sketch_mode(MonitorConfig(), at(1))
    config = MonitorConfig(mode="sketch")
    assert sketch_mode(config, at(1)) and not sketch_mode(config, None)
