"""The API through a TestClient: predictions stored before they are returned, validation,
feedback rules, request ids, health, metrics, start-up errors, no telemetry."""

import datetime as dt
import json
import shutil
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from kaizen import KaizenError
from kaizen.bundle import artifact, scoring
from kaizen.events import bundles, predictions
from kaizen.events.engine import create_engine
from kaizen.runtime import Serving
from kaizen.serving.app import create_app
from tests.unit.events.legacy import make_main_store
from tests.unit.serving.conftest import THRESHOLD, TOKEN, application

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def predict(client, *applications, **kwargs):
    """POST /predict with these applications."""
    return client.post("/predict", json={"applications": list(applications)}, **kwargs)


def stored(db: str) -> list[dict]:
    """Every event in the store."""
    engine = create_engine(db)
    try:
        return predictions.events(engine)
    finally:
        engine.dispose()


def test_predict_scores_stores_and_answers(client, settings, fitted):
    """Scores equal the saved pipeline's; decision by the threshold; every answer is stored
    with its request id, versions, inputs and reasons."""
    apps = [application(), application(Home="castle", Income=None), application(Debt=95.0)]
    response = predict(client, *apps, headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-42"
    answers = response.json()["predictions"]
    model = scoring.load(fitted.model)
    frame = pd.DataFrame(apps).astype({"Home": object})
    expected = model.scores(frame)
    assert [a["score"] for a in answers] == pytest.approx(expected.tolist())
    assert [a["decision"] for a in answers] == [
        "refuse" if s >= THRESHOLD else "accept" for s in expected
    ]
    assert answers[1]["unseen"] == {"Home": "castle"} and answers[0]["unseen"] == {}
    reasons = model.reasons(frame, 4)
    assert [[r["feature"] for r in a["reasons"]] for a in answers] == [
        [name for name, _ in row] for row in reasons
    ]
    assert {a["model_version"] for a in answers} == {model.version}
    events = {e["prediction_id"]: e for e in stored(settings.db.get_secret_value())}
    assert set(events) == {a["prediction_id"] for a in answers}
    second = events[answers[1]["prediction_id"]]
    assert second["request_id"] == "req-42"
    assert second["inputs"] == {**apps[1], "Income": None}
    assert second["score"] == pytest.approx(answers[1]["score"])
    assert second["schema_version"] == model.schema_version
    assert second["threshold"] == THRESHOLD and second["latency_ms"] > 0


def test_request_id_is_generated_when_absent_or_unusable(client):
    """A missing or unusable client id is replaced by a fresh one."""
    first = predict(client, application()).headers["X-Request-ID"]
    odd = predict(client, application(), headers={"X-Request-ID": "bad id with spaces"})
    assert len(first) == 32 and odd.headers["X-Request-ID"] not in ("", "bad id with spaces")
    assert client.get("/health").headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"applications": [application(Income="12")]}, ["Income"], "float_type"),
        ({"applications": [application(Income=True)]}, ["Income"], "float_type"),
        ({"applications": [application(Extra=1)]}, ["Extra"], "extra_forbidden"),
        (
            {"applications": [{k: v for k, v in application().items() if k != "Debt"}]},
            ["Debt"],
            "missing",
        ),
        ({"applications": []}, [], "too_short"),
        ({"applications": [application()], "more": 1}, None, "extra_forbidden"),
    ],
)
def test_bad_application_is_422_naming_the_field(client, settings, body, loc, kind):
    """422 with the field's location and the reason; nothing stored."""
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["type"] == kind for e in errors), errors
    if loc:
        assert any(e["loc"][-len(loc) :] == loc for e in errors), errors
    assert not stored(settings.db.get_secret_value())


def test_malformed_json_is_422(client):
    """A body that is not JSON is a validation error, not a server error."""
    response = client.post(
        "/predict", content=b'{"applications": [', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_batch_over_the_limit_is_413(bundled, db):
    """More applications than KAIZEN_MAX_BATCH: 413, nothing stored."""
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5, max_batch=2)
    with TestClient(create_app(settings)) as client:
        response = predict(client, application(), application(), application())
    assert response.status_code == 413
    assert "KAIZEN_MAX_BATCH=2" in response.json()["detail"]
    assert not stored(db)


def test_store_unavailable_is_503_and_nothing_acknowledged(client, settings):
    """With the tables gone the store cannot write: 503, no prediction id returned."""
    engine = sa.create_engine(settings.db.get_secret_value())
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE feedback")
        conn.exec_driver_sql("DROP TABLE predictions")
    engine.dispose()
    response = predict(client, application())
    assert response.status_code == 503
    assert "prediction_id" not in response.text
    assert client.get("/ready").status_code == 503
    assert client.get("/health").json()["store"] == "unreachable"
    assert 'kaizen_store_errors_total{operation="record"} 1.0' in client.get("/metrics").text


def feedback(client, prediction_id, outcome=1, headers=None, observed_at=None):
    """POST /feedback (observed now, unless `observed_at`)."""
    observed_at = observed_at or dt.datetime.now(dt.timezone.utc).isoformat()
    body = {"prediction_id": prediction_id, "outcome": outcome, "observed_at": observed_at}
    return client.post("/feedback", json=body, headers=AUTH if headers is None else headers)


def test_feedback_rules(client, settings):
    """401 without or with a wrong token, 404 unknown id, idempotent repeat, 409 conflict."""
    pid = predict(client, application()).json()["predictions"][0]["prediction_id"]
    assert feedback(client, pid, headers={}).status_code == 401
    assert feedback(client, pid, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert feedback(client, pid, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert feedback(client, str(uuid.uuid4())).status_code == 404
    first = feedback(client, pid)
    assert first.status_code == 200 and first.json()["created"] is True
    again = feedback(client, pid)
    assert again.status_code == 200 and again.json()["created"] is False
    assert feedback(client, pid, outcome=0).status_code == 409
    assert feedback(client, "not-a-uuid").status_code == 422
    [event] = stored(settings.db.get_secret_value())
    assert event["outcome"] == 1 and event["observed_at"] == dt.datetime.fromisoformat(
        first.json()["observed_at"]
    )


def test_feedback_disabled_without_token(bundled, db):
    """No KAIZEN_FEEDBACK_TOKEN: feedback is refused (403), never open."""
    with TestClient(create_app(Serving.load(bundle=bundled, db=db, threshold=0.5))) as c:
        assert feedback(c, str(uuid.uuid4())).status_code == 403


def test_health_ready_metrics(client, fitted):
    """Health names the model version and the store; metrics count requests, scores,
    decisions and stored events."""
    predict(client, application(), application(Debt=99.0))
    health = client.get("/health").json()
    assert health["model_version"] == scoring.load(fitted.model).version
    assert health["store"] == "reachable" and health["threshold"] == THRESHOLD
    assert client.get("/ready").json() == {"ready": True}
    text = client.get("/metrics").text
    assert 'kaizen_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert "kaizen_events_stored_total 2.0" in text
    assert 'kaizen_score_bucket{le="1.0"} 2.0' in text
    assert "kaizen_decisions_total{decision=" in text
    assert 'kaizen_request_seconds_count{route="/predict"} 1.0' in text
    client.get("/no/such/path")
    assert 'route="unmatched",status="404"' in client.get("/metrics").text


def test_openapi_lists_known_categories_and_nullable_fields(client):
    """The generated request model documents categories as an enum, numbers as nullable."""
    document = client.get("/openapi.json").json()
    application_schema = document["components"]["schemas"]["Application"]
    home = json.dumps(application_schema["properties"]["Home"])
    assert '"enum": ["other", "owner", "rent"]' in home
    assert {"type": "null"} in application_schema["properties"]["Income"]["anyOf"]
    assert application_schema["additionalProperties"] is False
    assert set(application_schema["required"]) == {"Income", "Debt", "Amount", "Price", "Home"}


def test_pii_fields_are_hashed_before_storage(bundled, db, monkeypatch):
    """KAIZEN_PII_FIELDS from the environment: the stored value is the keyed hash."""
    monkeypatch.setenv("KAIZEN_PII_FIELDS", "Home, Income")
    monkeypatch.setenv("KAIZEN_PII_SALT", "pepper-of-at-least-thirty-two-bytes")
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5)
    with TestClient(create_app(settings)) as client:
        predict(client, application())
    [event] = stored(db)
    assert event["inputs"]["Home"].startswith("hmac-sha256:")
    assert event["inputs"]["Income"].startswith("hmac-sha256:")
    assert event["inputs"]["Debt"] == 30.0
    assert event["pii_fields"] == ["Home", "Income"]


def test_startup_errors_are_one_line(bundled, db, tmp_path):
    """A corrupt bundle, a store without tables or at an older revision: KaizenError at
    start-up."""
    shutil.copytree(bundled, tmp_path / "bundle")
    (tmp_path / "bundle" / "model.joblib").chmod(0o600)
    (tmp_path / "bundle" / "model.joblib").write_bytes(b"garbage")
    with pytest.raises(KaizenError, match="model.joblib: SHA-256 differs from bundle.json"):
        with TestClient(create_app(Serving.load(bundle=tmp_path / "bundle", db=db))):
            pass
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    with pytest.raises(KaizenError, match="no tables: run `kaizen events init` first"):
        with TestClient(create_app(Serving.load(bundle=bundled, db=str(empty)))):
            pass
    old = tmp_path / "old.db"
    make_main_store(f"sqlite:///{old}", monitor=False)
    with pytest.raises(KaizenError, match="at revision 1, .*: run `kaizen events upgrade`$"):
        with TestClient(create_app(Serving.load(bundle=bundled, db=str(old)))):
            pass


def test_the_threshold_is_the_bundles_unless_set(bundled):
    """Without KAIZEN_THRESHOLD the decision threshold is the one the bundle was evaluated
    with (the rule `kaizen monitor` uses too)."""
    loaded = artifact.load(bundled)
    threshold = Serving.load(bundle=bundled).threshold
    assert loaded.decision_threshold(threshold) == loaded.threshold
    assert loaded.decision_threshold(Serving.load(bundle=bundled, threshold=0.31).threshold) == 0.31


def test_the_served_bundle_is_registered(bundled, db):
    """Opening the service records its bundle and its test scores in the event store
    (idempotent: a second start-up with the same bundle is fine)."""
    loaded = artifact.load(bundled)
    version = loaded.version
    for _ in range(2):
        with TestClient(create_app(Serving.load(bundle=bundled, db=db))):
            pass
    engine = create_engine(db)
    try:
        assert list(bundles.read(engine, [version])) == [version]
        registered = bundles.read_scores(engine, version)
        expected = loaded.test_scores().sort_values("row").reset_index(drop=True)
        assert registered["row"].tolist() == expected["row"].tolist()
        assert registered["label"].tolist() == expected["label"].astype(int).tolist()
    finally:
        engine.dispose()


def test_no_telemetry_even_when_the_environment_asks(client, monkeypatch):
    """FastAPI's own OpenTelemetry stays off: no tracer provider is set up at start-up."""
    from opentelemetry import trace  # pylint: disable=import-outside-toplevel

    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    with TestClient(create_app(client.app.state.service.settings)) as other:
        assert other.get("/health").status_code == 200
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
