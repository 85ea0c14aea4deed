"""Prediction events and feedback on SQLite: URLs, insert, feedback rules, window, purge,
integrity, ping."""

import datetime as dt
import sqlite3
import uuid
from dataclasses import fields

import pytest

from kaizen import KaizenError
from kaizen.events import predictions
from kaizen.events.engine import StoreError, create_engine, database_url, ping
from kaizen.events.predictions import (
    COLUMNS,
    ImplausibleTime,
    OutcomeConflict,
    PredictionRow,
    UnknownPrediction,
)
from kaizen.events.schema import PREDICTIONS, utc

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def event(created_at: dt.datetime, **changes) -> dict:
    """One prediction event."""
    base = {
        "prediction_id": str(uuid.uuid4()),
        "created_at": created_at,
        "request_id": "r",
        "model_version": "m1",
        "schema_version": "s1",
        "inputs": {"Income": 1.0, "Home": "rent"},
        "pii_fields": [],
        "score": 0.3,
        "threshold": 0.5,
        "decision": "accept",
        "reasons": [{"feature": "Income", "contribution": 0.1}],
        "unseen": {},
        "latency_ms": 2.0,
    }
    return {**base, **changes}


def record(engine, events: list[dict]) -> None:
    """Insert events given as dicts of PredictionRow's fields."""
    predictions.insert(engine, [PredictionRow(**e) for e in events])


@pytest.fixture(name="engine")
def fixture_engine(db):
    """An engine on the initialised store of the `db` fixture."""
    engine = create_engine(db)
    yield engine
    engine.dispose()


def test_database_url(tmp_path):
    """Paths and sqlite URLs are SQLite, postgresql:// goes through psycopg 3."""
    assert database_url(str(tmp_path / "e.db")) == f"sqlite:///{tmp_path / 'e.db'}"
    assert database_url("sqlite:////x/e.db") == "sqlite:////x/e.db"
    assert database_url("postgresql://u:p@h:5/d") == "postgresql+psycopg://u:p@h:5/d"
    assert database_url("postgres://h/d") == "postgresql+psycopg://h/d"
    with pytest.raises(KaizenError, match="KAIZEN_DB: 'mysql': use a path"):
        database_url("mysql://h/d")
    with pytest.raises(KaizenError, match="no such directory"):
        create_engine(str(tmp_path / "missing" / "e.db"))


def test_record_window_and_purge(engine):
    """Events come back in time order with their outcome; the window is [since, until);
    purge removes older events and their feedback."""
    first, second, third = (event(T0 + dt.timedelta(days=d)) for d in (0, 1, 2))
    record(engine, [second, first])
    record(engine, [third])
    predictions.add_feedback(engine, first["prediction_id"], 1, T0, T0)
    assert [e["prediction_id"] for e in predictions.events(engine)] == [
        e["prediction_id"] for e in (first, second, third)
    ]
    window = predictions.events(engine, T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2))
    assert [e["prediction_id"] for e in window] == [second["prediction_id"]]
    [labelled] = predictions.events(engine, labelled_only=True)
    assert labelled["outcome"] == 1 and labelled["created_at"] == T0
    assert predictions.purge(engine, T0 + dt.timedelta(days=1)) == {
        "predictions": 1,
        "feedback": 1,
    }
    assert predictions.count(engine) == 2 and predictions.integrity(engine) == []


def test_prediction_row_has_a_field_per_column_in_order():
    """The typed row and the table cannot drift apart."""
    assert [f.name for f in fields(PredictionRow)] == [c.name for c in PREDICTIONS.columns]
    assert COLUMNS == tuple(c.name for c in PREDICTIONS.columns)


def test_insert_reads_back_every_field_and_nothing_is_a_no_op(engine):
    """Every field of a PredictionRow comes back as given (JSON values parsed, times aware
    UTC); inserting no row does nothing."""
    given = event(T0 + dt.timedelta(microseconds=7), unseen={"Home": "castle"}, pii_fields=["Age"])
    record(engine, [given])
    predictions.insert(engine, [])
    [back] = predictions.events(engine)
    assert {name: back[name] for name in given} == given
    assert back["outcome"] is None and predictions.count(engine) == 1


def test_insert_splits_into_statements_within_the_parameter_limit(engine, monkeypatch):
    """More events than one statement may bind: several statements in one transaction, all
    stored (each with its own time), or none when any of them fails."""
    monkeypatch.setattr(predictions, "parameter_limit", lambda conn: 2 * len(COLUMNS) + 1)
    made = [event(T0 + dt.timedelta(seconds=s)) for s in range(5)]
    record(engine, made)
    back = predictions.events(engine)
    assert [(e["prediction_id"], e["created_at"]) for e in back] == [
        (e["prediction_id"], e["created_at"]) for e in made
    ]
    with pytest.raises(StoreError):
        record(engine, [event(T0) for _ in range(4)] + [made[0]])
    assert predictions.count(engine) == 5


def test_record_is_all_or_nothing(engine):
    """A duplicate id in a batch: StoreError and none of the batch stored."""
    one = event(T0)
    with pytest.raises(StoreError):
        record(engine, [event(T0), one, dict(one)])
    assert predictions.count(engine) == 0


def test_feedback_rules(engine):
    """Unknown id, first outcome, identical repeat, conflicting outcome."""
    known = event(T0)
    record(engine, [known])
    with pytest.raises(UnknownPrediction):
        predictions.add_feedback(engine, str(uuid.uuid4()), 1, T0, T0)
    assert predictions.add_feedback(engine, known["prediction_id"], 0, T0, T0).created is True
    again = predictions.add_feedback(engine, known["prediction_id"], 0, T0 + dt.timedelta(3), T0)
    assert again.created is False and again.observed_at == T0
    with pytest.raises(OutcomeConflict, match="already has outcome 0"):
        predictions.add_feedback(engine, known["prediction_id"], 1, T0, T0)


def test_feedback_times_are_judged_with_a_skew(engine):
    """With `skew`: before the prediction or beyond now + skew is ImplausibleTime (nothing
    stored); an unknown id is still UnknownPrediction first; within the skew is stored."""
    known = event(T0)
    record(engine, [known])
    pid, skew, now = known["prediction_id"], dt.timedelta(minutes=5), T0 + dt.timedelta(days=1)
    with pytest.raises(UnknownPrediction):
        predictions.add_feedback(engine, str(uuid.uuid4()), 1, T0 - dt.timedelta(1), now, skew=skew)
    for when, reason in ((T0 - dt.timedelta(seconds=1), "before"), (now + 2 * skew, "future")):
        with pytest.raises(ImplausibleTime, match=reason):
            predictions.add_feedback(engine, pid, 1, when, now, skew=skew)
    assert predictions.events(engine)[0]["outcome"] is None
    assert predictions.add_feedback(engine, pid, 1, now + skew / 2, now, skew=skew).created


def test_integrity_reports_orphans_and_unreadable_inputs(engine, db):
    """Feedback without its prediction and inputs that are not an object are problems."""
    record(engine, [event(T0, inputs=[1, 2])])
    raw = sqlite3.connect(db)  # foreign keys are off by default outside the store
    with raw:
        raw.execute("INSERT INTO feedback VALUES ('nope', 1, '2026-01-01', '2026-01-01')")
    raw.close()
    problems = predictions.integrity(engine)
    assert "feedback without a prediction: 1" in problems
    assert any("unreadable inputs" in p for p in problems)


def test_utc_and_ping(engine, tmp_path):
    """Naive times are UTC; ping is False once the store is gone."""
    assert utc(dt.datetime(2026, 1, 1)) == T0
    assert utc(dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == T0
    assert ping(engine) is True
    assert ping(create_engine(str(tmp_path / "other.db"))) is False
