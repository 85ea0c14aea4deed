"""simulate-traffic against a fake API on 127.0.0.1: batches, pacing, outcomes with the token."""

from __future__ import annotations

import argparse
import http.server
import json
import threading
import uuid
from contextlib import contextmanager

import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.commands import simulate

LONG_TOKEN = "tok-" + "a" * 28  # a feedback token is at least 32 bytes


@contextmanager
def fake_api(status: int = 200):
    """/predict answers one prediction per application, refusing every third one (counted over
    the whole run); /feedback records the body and token."""
    seen: dict[str, list] = {"predict": [], "feedback": [], "auth": [], "refused": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        """The two routes simulate-traffic calls."""

        def do_POST(self):  # pylint: disable=invalid-name
            """Answer like kaizen serve."""
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/predict":
                seen["predict"].append(body["applications"])
                predictions = []
                for _ in body["applications"]:
                    refused = sum(map(len, seen["predict"][:-1])) + len(predictions)
                    item = {"prediction_id": str(uuid.uuid4())}
                    item["decision"] = "refuse" if refused % 3 == 0 else "accept"
                    if item["decision"] == "refuse":
                        seen["refused"].append(item["prediction_id"])
                    predictions.append(item)
                answer = {"predictions": predictions}
            else:
                seen["feedback"].append(body)
                seen["auth"].append(self.headers.get("Authorization"))
                answer = {"created": True}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            """Quiet."""

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def args(fitted, bundled, url: str, **overrides) -> argparse.Namespace:
    """simulate-traffic's arguments on the fitted fixture's current part."""
    values = {
        "input": str(fitted.current),
        "url": url,
        "rate": None,
        "feedback_share": 0.5,
        "feedback": "all",
        "batch": 5,
        "bundle": str(bundled),
    }
    return argparse.Namespace(**{**values, **overrides})


def test_replays_every_row_and_half_the_outcomes(fitted, bundled, monkeypatch):
    """18 current rows in batches of 5; outcomes of 9 sent with the bearer token."""
    monkeypatch.setenv("KAIZEN_FEEDBACK_TOKEN", LONG_TOKEN)
    rows = len(pd.read_parquet(fitted.current))
    with fake_api() as (url, seen):
        result = simulate.simulate(args(fitted, bundled, url))
    assert result["sent"] == rows and result["feedback"] == rows // 2
    assert [len(batch) for batch in seen["predict"]] == [5, 5, 5, 3]
    first = seen["predict"][0][0]
    assert set(first) == {"Income", "Debt", "Amount", "Price", "Home"}
    assert isinstance(first["Income"], float)
    assert {body["outcome"] for body in seen["feedback"]} <= {0, 1}
    assert set(seen["auth"]) == {f"Bearer {LONG_TOKEN}"}


def test_csv_input_and_pacing(fitted, bundled, tmp_path, monkeypatch):
    """A raw CSV (target as text) works; --rate paces the batches."""
    monkeypatch.setenv("KAIZEN_FEEDBACK_TOKEN", LONG_TOKEN)
    frame = pd.read_parquet(fitted.current)
    frame["Status"] = frame["Status"].map({1: "bad", 0: "good"})
    csv = tmp_path / "rows.csv"
    frame.to_csv(csv, index=False)
    sleeps: list[float] = []
    real_sleep, main = simulate.time.sleep, threading.main_thread()

    def record(seconds: float) -> None:
        # time.sleep is one function for every thread: record the pacing (this thread's) only
        if threading.current_thread() is main:
            sleeps.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(simulate.time, "sleep", record)
    with fake_api() as (url, seen):
        result = simulate.simulate(
            args(fitted, bundled, url, input=str(csv), rate=100.0, feedback_share=1)
        )
    assert result["feedback"] == len(frame) and len(seen["feedback"]) == len(frame)
    assert sleeps and 0 < max(sleeps) <= len(frame) / 100  # paced to 100 rows/s


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"feedback_share": 2.0}, "--feedback-share: must lie in"),
        ({"rate": 0.0}, "--rate: must be positive"),
        ({"batch": 0}, "--batch: must be positive"),
    ],
)
def test_bad_options(fitted, bundled, overrides, problem):
    """One-line errors before anything is sent."""
    with pytest.raises(KaizenError, match=problem):
        simulate.simulate(args(fitted, bundled, "http://127.0.0.1:9", **overrides))


def test_errors_name_the_problem(fitted, bundled, monkeypatch):
    """No token with outcomes to send; an HTTP error; an unreachable server."""
    monkeypatch.delenv("KAIZEN_FEEDBACK_TOKEN", raising=False)
    with fake_api() as (url, _):
        with pytest.raises(KaizenError, match="KAIZEN_FEEDBACK_TOKEN: needed"):
            simulate.simulate(args(fitted, bundled, url))
    with fake_api(status=422) as (url, _):
        with pytest.raises(KaizenError, match="predict: HTTP 422"):
            simulate.simulate(args(fitted, bundled, url, feedback_share=0))
    with pytest.raises(KaizenError, match="unreachable"):
        simulate.simulate(args(fitted, bundled, "http://127.0.0.1:9", feedback_share=0))


def test_accepted_feedback_sends_no_refused_outcome(fitted, bundled, monkeypatch, caplog):
    """--feedback accepted (the default): every accepted outcome, none of a refused applicant;
    `all` says it cannot happen in production."""
    monkeypatch.setenv("KAIZEN_FEEDBACK_TOKEN", LONG_TOKEN)
    rows = len(pd.read_parquet(fitted.current))
    with fake_api() as (url, seen):
        result = simulate.simulate(
            args(fitted, bundled, url, feedback_share=1, feedback="accepted")
        )
    sent = {body["prediction_id"] for body in seen["feedback"]}
    assert not sent & set(seen["refused"])
    assert result["feedback"] == len(sent) == rows - len(seen["refused"]) == result["accepted"]
    assert result["feedback_policy"] == "accepted" and "production" not in caplog.text
    with fake_api() as (url, seen):
        result = simulate.simulate(args(fitted, bundled, url, feedback_share=1, feedback="all"))
    assert result["feedback"] == rows and "cannot happen in production" in caplog.text


def test_feedback_defaults_to_accepted():
    """The CLI's default policy is the production one."""
    parser = argparse.ArgumentParser()
    simulate.register(parser.add_subparsers())
    parsed = parser.parse_args(["simulate-traffic", "--url", "http://127.0.0.1:1"])
    assert parsed.feedback == "accepted"
