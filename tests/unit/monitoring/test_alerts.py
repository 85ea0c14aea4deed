"""Which signals to alert and the Slack-compatible payload (the webhook: tests/unit/io)."""

from __future__ import annotations

import datetime as dt

from kaizen.monitoring import alerts
from kaizen.monitoring import levels as L

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)


def sig(name: str, level: str) -> L.Signal:
    """A signal at a level, with thresholds."""
    return L.signal(name, level, "drift", value=0.3, warning=0.1, critical=0.25, detail="PSI")


def test_due_once_per_episode_until_cleared_or_cooldown():
    """New breach: alert; same level next run: quiet; after the cooldown or a rise: again."""
    assert [s.name for s in alerts.due([sig("a", "warning")], {}, NOW, 24)] == ["a"]
    recent = {"a": {"level": "warning", "alerted_at": NOW - dt.timedelta(hours=2)}}
    assert not alerts.due([sig("a", "warning")], recent, NOW, 24)
    stale = {"a": {"level": "warning", "alerted_at": NOW - dt.timedelta(hours=30)}}
    assert alerts.due([sig("a", "warning")], stale, NOW, 24)
    assert alerts.due([sig("a", "critical")], recent, NOW, 24)  # the level rose
    unsent = {"a": {"level": "warning", "alerted_at": None}}  # the webhook failed last time
    assert alerts.due([sig("a", "warning")], unsent, NOW, 24)
    assert not alerts.due([sig("a", "ok"), sig("b", "insufficient data")], {}, NOW, 24)


def test_alerted_at_carries_the_episode():
    """Sent now: now; still breaching: the earlier time; cleared: None."""
    previous = {"a": {"level": "warning", "alerted_at": "2026-06-01T10:00:00+00:00"}}
    found = alerts.alerted_at(
        [sig("a", "warning"), sig("b", "critical"), sig("c", "ok")], previous, {"b"}, NOW
    )
    assert found["a"] == dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc)
    assert found["b"] == NOW and found["c"] is None


def test_payload_is_slack_compatible():
    """`text` plus attachments with the value, threshold and runbook; structured alerts too."""
    body = alerts.payload("critical", [sig("feature:Expenses", "critical")], "docs/x.md", "r")
    assert body["text"].startswith("Kaizen monitoring: critical: 1 signal(s)")
    fields = {f["title"]: f["value"] for f in body["attachments"][0]["fields"]}
    assert fields == {"value": "0.3", "threshold": "0.25", "runbook": "docs/x.md"}
    assert body["alerts"][0] == {
        "signal": "feature:Expenses",
        "level": "critical",
        "value": 0.3,
        "threshold": 0.25,
        "runbook": "docs/x.md",
    }
    assert "threshold 0.1" in alerts.line(sig("a", "warning"), "rb")
