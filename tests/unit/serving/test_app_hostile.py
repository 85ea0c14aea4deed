"""The API under hostile and malformed input (issue 19), through a TestClient: every bad value
is a JSON 4xx with the request id, the body limit holds whatever Content-Length says, method
labels are a fixed set, feedback times are plausible, every answer is documented, and a failure
nobody foresaw is a JSON 500 logged without values."""

import asyncio
import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient

from kaizen.bundle import artifact
from kaizen.runtime import Serving
from kaizen.serving import app as app_module
from kaizen.serving import decisions
from kaizen.serving.app import create_app
from tests.unit.serving.conftest import application
from tests.unit.serving.test_app import AUTH, predict, stored

JSON = {"content-type": "application/json"}
VALID = b'{"Income": 1, "Debt": 2, "Amount": 3, "Price": 4, "Home": "rent"}'


def raw_predict(client, application_bytes: bytes):
    """POST /predict with one application given as raw JSON bytes."""
    content = b'{"applications": [' + application_bytes + b"]}"
    return client.post("/predict", content=content, headers=JSON)


@pytest.mark.parametrize(
    "value", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b'"r\xffnt"', b'"\\ud800"']
)
def test_values_json_does_not_allow_are_422_with_the_request_id(client, settings, value):
    """NaN, infinities, 1e400, invalid UTF-8 and a lone surrogate: 422 JSON (they were plain
    text 500s without X-Request-ID), nothing stored."""
    response = raw_predict(client, VALID.replace(b"1,", value + b",", 1).replace(b'"rent"', value))
    assert response.status_code == 422, response.text
    assert response.headers["X-Request-ID"] and response.json()["detail"][0]["loc"] == ["body"]
    assert not stored(settings.db.get_secret_value())


def test_nul_in_a_category_is_422_and_never_stored(client, settings):
    """A NUL (it blinded monitoring on PostgreSQL) is refused by name, not echoed."""
    response = predict(client, application(Home="own\u0000er"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "applications", 0, "Home"]
    assert "own" not in response.text
    assert not stored(settings.db.get_secret_value())


def test_422_never_echoes_input_values(client):
    """Field and reason only: the values are personal data."""
    response = predict(client, application(Income="4111-1111-1111-1111", Debt="Jane Doe"))
    assert response.status_code == 422
    assert "4111" not in response.text and "Jane" not in response.text
    assert {e["loc"][-1] for e in response.json()["detail"]} == {"Income", "Debt"}


@pytest.fixture(name="small")
def fixture_small(bundled, db):
    """A client whose body limit is 2,048 bytes."""
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5, max_body=2048)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_body_over_the_limit_is_413_before_parsing(small, db):
    """A too-long body is refused with 413 and the request id, nothing stored; one that fits
    is scored."""
    assert predict(small, application()).status_code == 200
    response = predict(small, *[application()] * 40)
    assert response.status_code == 413 and "KAIZEN_MAX_BODY" in response.json()["detail"]
    assert response.headers["X-Request-ID"]
    assert len(stored(db)) == 1


def test_a_streamed_body_without_length_is_counted(small):
    """Chunked transfer (no Content-Length): counted as it arrives, 413 past the limit."""

    def chunks():
        yield b'{"applications": ['
        for _ in range(100):
            yield VALID + b","
        yield VALID + b"]}"

    response = small.post("/predict", content=chunks(), headers=JSON)
    assert response.status_code == 413


def test_a_declared_length_over_the_limit_is_refused_unread(small):
    """Content-Length beyond the limit is honoured: 413 without reading the body."""
    response = small.get("/health", headers={"content-length": "999999999"})
    assert response.status_code == 413


def test_the_default_body_limit_follows_max_batch(bundled):
    """KAIZEN_MAX_BODY unset: 4 KiB per application of KAIZEN_MAX_BATCH plus 64 KiB."""
    assert Serving.load(bundle=bundled, max_batch=10).body_limit == 10 * 4096 + 65536
    assert Serving.load(bundle=bundled, max_body=5000).body_limit == 5000


def test_made_up_methods_share_one_metric_label(client):
    """300 invented methods add one series (`other`), not 300."""
    for i in range(300):
        assert client.request(f"X{i}", "/predict").status_code == 405
    text = client.get("/metrics").text
    assert 'method="other"' in text and 'method="X1"' not in text
    assert text.count("kaizen_requests_total{") <= 5


def test_feedback_times_must_be_plausible(client, settings):
    """Before the prediction, or ahead of now by more than KAIZEN_CLOCK_SKEW: 422 naming
    observed_at; a few seconds ahead (clock skew) is accepted."""
    pid = predict(client, application()).json()["predictions"][0]["prediction_id"]
    now = dt.datetime.now(dt.timezone.utc)
    for when in (now - dt.timedelta(days=1), now + dt.timedelta(seconds=settings.clock_skew + 60)):
        body = {"prediction_id": pid, "outcome": 1, "observed_at": when.isoformat()}
        response = client.post("/feedback", json=body, headers=AUTH)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "observed_at"]
    ahead = (now + dt.timedelta(seconds=30)).isoformat()
    body = {"prediction_id": pid, "outcome": 1, "observed_at": ahead}
    assert client.post("/feedback", json=body, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        b'{"prediction_id": "%s", "outcome": true, "observed_at": "2026-12-01T00:00:00Z"}',
        b'{"prediction_id": "%s", "outcome": 1, "observed_at": 0}',
        b'{"prediction_id": "%s", "outcome": NaN, "observed_at": "2026-12-01T00:00:00Z"}',
        b'{"prediction_id": "%s", "outcome": 1, "observed_at": "\xff"}',
    ],
)
def test_bad_feedback_bodies_are_documented_422s(client, settings, content):
    """`true`, a number for a time, NaN, invalid UTF-8: 422 (was: stored, 500 or an
    undocumented 400), nothing stored."""
    pid = predict(client, application()).json()["predictions"][0]["prediction_id"]
    response = client.post("/feedback", content=content % pid.encode(), headers={**AUTH, **JSON})
    assert response.status_code == 422, response.text
    assert response.headers["X-Request-ID"]
    [event] = stored(settings.db.get_secret_value())
    assert event["outcome"] is None


def test_the_token_is_checked_before_the_body(client):
    """An anonymous client gets 401 whatever it sends."""
    response = client.post("/feedback", content=b"\xff", headers=JSON)
    assert response.status_code == 401


def test_every_answer_is_documented(client):
    """Each status a route can give is in the OpenAPI document, with a JSON schema."""
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        ("/predict", "post"): {"200", "413", "422", "503"},
        ("/feedback", "post"): {"200", "401", "403", "404", "409", "413", "422", "503"},
        ("/health", "get"): {"200", "413"},
        ("/ready", "get"): {"200", "413", "503"},
        ("/metrics", "get"): {"200", "413"},
    }
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, set(responses))
        for status in statuses - {"200"} - ({"503"} if path == "/ready" else set()):
            assert "application/json" in responses[status].get("content", {}), (path, status)
    schema = paths["/feedback"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Feedback"}
    link = paths["/predict"]["post"]["responses"]["200"]["links"]["Feedback"]
    assert link["operationId"] == paths["/feedback"]["post"]["operationId"] == "feedback"


def test_an_unforeseen_failure_is_a_json_500_logged_without_values(client, monkeypatch, caplog):
    """Scoring raising with a value in its message: JSON 500 with the request id; the log names
    the request and the exception type, never the message."""

    def broken(service, rows):
        raise ValueError(f"cannot score Income={rows[0]['Income']}")

    monkeypatch.setattr(decisions, "decide", broken)
    with caplog.at_level(logging.ERROR):
        response = predict(client, application(Income=987654.0), headers={"X-Request-ID": "r-9"})
    assert response.status_code == 500 and response.json() == {"detail": "internal error"}
    assert response.headers["X-Request-ID"] == "r-9"
    assert "r-9" in caplog.text and "ValueError" in caplog.text
    assert "987654" not in caplog.text


def test_the_bundle_is_hashed_once(bundled, db, monkeypatch):
    """create_app loads and checks the bundle; the lifespan's service reuses it."""
    calls = []
    verify = artifact.verify
    monkeypatch.setattr(artifact, "verify", lambda folder: calls.append(folder) or verify(folder))
    with TestClient(create_app(Serving.load(bundle=bundled, db=db))) as client:
        assert client.get("/health").status_code == 200
    assert len(calls) == 1


def test_validation_runs_off_the_event_loop(client, monkeypatch):
    """Validation runs in a worker thread, where no event loop runs: the loop stays free for
    /health (checked for real, on uvicorn, in tests/integration/test_hostile.py)."""
    loops = []
    original = app_module.Applications.__call__

    def spy(self, body):
        try:
            loops.append(asyncio.get_running_loop())
        except RuntimeError:
            loops.append(None)
        return original(self, body)

    monkeypatch.setattr(app_module.Applications, "__call__", spy)
    assert predict(client, application()).status_code == 200
    assert loops == [None]
