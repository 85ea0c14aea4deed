"""JSON POSTs: the webhook against a local HTTP server (retries, backoff, no raise)."""

from __future__ import annotations

import http.server
import json
import threading
from contextlib import contextmanager

from kaizen.io import net


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
    body = {"text": "Kaizen monitoring: warning", "alerts": [{"signal": "a"}]}
    with webhook([]) as (url, received):
        delivery = net.post(url, body, retries=2, backoff=0, timeout=5)
    assert delivery == net.Delivery(True, 1)
    assert received == [body]


def test_webhook_retries_with_backoff_then_succeeds():
    """503, 500, then 200: three attempts, waits 0.5 then 1.0 s (exponential)."""
    waits: list[float] = []
    with webhook([503, 500]) as (url, received):
        delivery = net.post(
            url, {"text": "x"}, retries=3, backoff=0.5, timeout=5, sleep=waits.append
        )
    assert delivery.ok and delivery.attempts == 3 and len(received) == 3
    assert waits == [0.5, 1.0]


def test_webhook_client_error_is_not_retried_and_unreachable_fails():
    """A 400 stops at once; a closed port fails after every retry, without raising."""
    with webhook([400]) as (url, received):
        delivery = net.post(url, {"text": "x"}, retries=3, backoff=0, timeout=5)
    assert (delivery.ok, delivery.attempts, delivery.error, len(received)) == (
        False,
        1,
        "HTTP 400",
        1,
    )
    waits: list[float] = []
    closed = net.post(
        "http://127.0.0.1:9/hook", {}, retries=2, backoff=1, timeout=1, sleep=waits.append
    )
    assert not closed.ok and closed.attempts == 3 and waits == [1, 2]


def test_origin_hides_the_path_and_credentials():
    """Messages name a webhook by scheme and host only: its path (and any user:password) is
    the secret."""
    assert net.origin("https://hooks.example/services/T0/B0/secret") == "https://hooks.example"
    assert net.origin("https://user:pw@hooks.example:8443/x") == "https://hooks.example:8443"
    assert net.origin("no url at all") == "?"


def test_malformed_url_fails_without_raising_or_showing_it():
    """A URL urllib cannot use is a failed delivery, never an exception that loses the run;
    the error holds no part of the path."""
    for url in ("hooks.example/secret-path", "https://hooks.example:99999999/secret-path"):
        delivery = net.post(url, {"text": "x"}, retries=1, backoff=0, timeout=1)
        assert not delivery.ok and "secret-path" not in delivery.error
    closed = net.post("http://127.0.0.1:9/secret-path", {}, retries=0, backoff=0, timeout=1)
    assert closed.error.startswith("http://127.0.0.1:9: ") and "secret-path" not in closed.error
