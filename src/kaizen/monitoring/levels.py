"""Levels of the monitor's signals: a signal, its level by thresholds, the persistence rule, and
the overall level of a run.

Each signal gets a level: `ok`, `warning`, `critical`, or `insufficient data` (too few events
or matured outcomes to judge: never an alarm). A signal over its critical threshold in this
window is a *breach*; it is reported `critical` only when it also breached in the previous
`persistence - 1` windows (a one-off crossing reads `warning`), against one-off false alarms.
The overall level is the worst signal level; `insufficient data` when nothing is flagged and the
window is too small or a drift signal could not be judged. Exit code: 2 when critical, else 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from kaizen.format import CRITICAL, INSUFFICIENT, OK, WARNING, flagged, worst

EXIT_CODES = {CRITICAL: 2}  # anything else exits 0


@dataclass(frozen=True)
class Signal:  # pylint: disable=too-many-instance-attributes
    """A monitored quantity, its thresholds and its level in this window."""

    name: str
    level: str
    value: float | None = None
    warning: float | None = None
    critical: float | None = None
    breach: str = OK  # level before the persistence rule
    reference: float | None = None  # what the value is compared with
    detail: str = ""
    group: str = "drift"
    statistic: str = ""  # what `value`, `warning` and `critical` measure (PSI, W₁/σ, …)


def by_threshold(value: float | None, warning: float, critical: float, higher_is_worse=True):
    """critical / warning / ok by thresholds; insufficient data when there is no value."""
    if value is None or not math.isfinite(value):
        return INSUFFICIENT
    worse = (lambda a, b: a >= b) if higher_is_worse else (lambda a, b: a <= b)
    if worse(value, critical):
        return CRITICAL
    return WARNING if worse(value, warning) else OK


def persist(item: Signal, previous: list[str], persistence: int) -> Signal:
    """Apply the persistence rule: `previous` are this signal's past breaches, newest first."""
    if item.breach != CRITICAL or persistence <= 1:
        return item
    streak = previous[: persistence - 1]
    if len(streak) == persistence - 1 and all(level == CRITICAL for level in streak):
        return item
    seen = 1 + sum(level == CRITICAL for level in streak)
    note = (
        f"critical threshold crossed in {seen} of the last {persistence} windows: critical after "
        f"{persistence} in a row (monitor.persistence)"
    )
    detail = f"{item.detail}; {note}" if item.detail else note
    return _replace(item, level=WARNING, detail=detail)


def _replace(item: Signal, **changes) -> Signal:
    """A copy with some fields changed."""
    return Signal(**{**asdict(item), **changes})


def signal(name: str, breach: str, group: str, **facts) -> Signal:
    """A signal whose level equals its breach (before persistence)."""
    return Signal(name=name, level=breach, breach=breach, group=group, **facts)


def overall(signals: list[Signal], events: int, min_events: int) -> str:
    """Worst level; with nothing flagged, insufficient data for a small window or when a drift
    signal could not be judged (its tests lacked power: "ok" would claim what none could see)."""
    found = worst(s.level for s in signals)
    if flagged(found):
        return found
    unjudged = any(s.group == "drift" and s.level == INSUFFICIENT for s in signals)
    return INSUFFICIENT if events < min_events or unjudged else OK
