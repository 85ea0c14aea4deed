"""Which signals to alert, the Slack-compatible payload, and the webhook (local HTTP server)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from contextlib import contextmanager

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


@contextmanager
def webhook(statuses: list[int]):
    """A local HTTP server answering the given statuses in turn (then 200); the bodies it got."""
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        """Record the JSON body, answer the next status."""

        def do_POST(self):  # pylint: disable=invalid-name
            """Receive one alert."""
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *_):  # quiet
            """No access log."""

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_is_received_by_a_local_server():
    """The payload arrives as JSON on 127.0.0.1."""
    body = alerts.payload("warning", [sig("a", "warning")], "rb", "r")
    with webhook([]) as (url, received):
        delivery = alerts.post(url, body, retries=2, backoff=0, timeout=5)
    assert delivery == alerts.Delivery(True, 1)
    assert received == [body]


def test_webhook_retries_with_backoff_then_succeeds():
    """503, 500, then 200: three attempts, waits 0.5 then 1.0 s (exponential)."""
    waits: list[float] = []
    with webhook([503, 500]) as (url, received):
        delivery = alerts.post(
            url, {"text": "x"}, retries=3, backoff=0.5, timeout=5, sleep=waits.append
        )
    assert delivery.ok and delivery.attempts == 3 and len(received) == 3
    assert waits == [0.5, 1.0]


def test_webhook_client_error_is_not_retried_and_unreachable_fails():
    """A 400 stops at once; a closed port fails after every retry, without raising."""
    with webhook([400]) as (url, received):
        delivery = alerts.post(url, {"text": "x"}, retries=3, backoff=0, timeout=5)
    assert (delivery.ok, delivery.attempts, delivery.error, len(received)) == (
        False,
        1,
        "HTTP 400",
        1,
    )
    waits: list[float] = []
    closed = alerts.post(
        "http://127.0.0.1:9/hook", {}, retries=2, backoff=1, timeout=1, sleep=waits.append
    )
    assert not closed.ok and closed.attempts == 3 and waits == [1, 2]
