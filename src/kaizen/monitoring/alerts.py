"""Alerts: which signals to announce and a Slack-compatible payload (kaizen.io.net posts it).

One alert per signal and episode: a signal is announced when it starts breaching (warning or
critical), when its level rises, or when it still breaches `cooldown_hours` after the last
alert. An alert that could not be delivered is not recorded, so the next run tries again. A
failing webhook never stops the run: the report is written first, the failure is logged.
"""

from __future__ import annotations

import datetime as dt

from kaizen.format import COLOURS, CRITICAL, LEVEL_VALUES, OK, flagged, fmt
from kaizen.monitoring.levels import Signal


def due(
    signals: list[Signal], previous: dict[str, dict], now: dt.datetime, cooldown_hours: float
) -> list[Signal]:
    """Signals to announce now; `previous` = last run's {signal: {level, alerted_at}}."""
    out = []
    for item in signals:
        if not flagged(item.level):
            continue
        before = previous.get(item.name, {})
        last = before.get("level", OK)
        alerted = before.get("alerted_at")
        rising = LEVEL_VALUES[item.level] > LEVEL_VALUES.get(last, LEVEL_VALUES[OK])
        stale = alerted is not None and now - _aware(alerted) >= dt.timedelta(hours=cooldown_hours)
        if not flagged(last) or rising or alerted is None or stale:
            out.append(item)
    return out


def alerted_at(
    signals: list[Signal], previous: dict[str, dict], sent: set[str], now: dt.datetime
) -> dict[str, dt.datetime | None]:
    """When each signal was last announced in its current episode (None: cleared or unsent)."""
    out: dict[str, dt.datetime | None] = {}
    for item in signals:
        if item.name in sent:
            out[item.name] = now
        elif flagged(item.level) and flagged(previous.get(item.name, {}).get("level", OK)):
            last = previous[item.name].get("alerted_at")
            out[item.name] = None if last is None else _aware(last)
        else:
            out[item.name] = None
    return out


def _aware(value) -> dt.datetime:
    """A datetime (or ISO text) as aware UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _threshold(item: Signal) -> str:
    """The threshold the level was judged against."""
    bound = item.critical if item.level == CRITICAL else item.warning
    return fmt(bound)


def line(item: Signal, runbook: str) -> str:
    """One log line per alert."""
    return (
        f"ALERT {item.level}: {item.name} = {fmt(item.value)} (threshold {_threshold(item)}); "
        f"{item.detail}; runbook: {runbook}"
    )


def payload(level: str, signals: list[Signal], runbook: str, report_hint: str) -> dict:
    """Slack-compatible JSON (`text` + `attachments`), with the structured alerts too."""
    title = f"Kaizen monitoring: {level}: {len(signals)} signal(s) to look at"
    return {
        "text": f"{title} ({report_hint}). Runbook: {runbook}",
        "attachments": [
            {
                "color": COLOURS[item.level],
                "title": f"{item.level}: {item.name}",
                "text": item.detail,
                "fields": [
                    {
                        "title": "value",
                        "value": fmt(item.value),
                        "short": True,
                    },
                    {"title": "threshold", "value": _threshold(item), "short": True},
                    {"title": "runbook", "value": runbook, "short": False},
                ],
            }
            for item in signals
        ],
        "alerts": [
            {
                "signal": item.name,
                "level": item.level,
                "value": item.value,
                "threshold": item.critical if item.level == CRITICAL else item.warning,
                "runbook": runbook,
            }
            for item in signals
        ],
    }
