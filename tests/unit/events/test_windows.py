"""The monitor's reads and writes on an SQLite event store."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kaizen.events import windows as M
from kaizen.events.predictions import EventStore
from tests.unit.monitoring.events import store_events

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(name="db")
def fixture_db(tmp_path) -> str:
    """A store with 30 old labelled events and 20 recent unlabelled ones."""
    path = str(tmp_path / "events.db")
    frame = pd.DataFrame(
        {"Income": np.r_[np.arange(29.0), [np.nan]], "Home": ["rent", "owner"] * 14 + ["x", None]}
    )
    store_events(
        path, frame, np.linspace(0, 1, 30), NOW - dt.timedelta(days=400), outcomes=[1, 0] * 15
    )
    store_events(path, frame.iloc[:20], np.full(20, 0.2), NOW - dt.timedelta(days=2))
    return path


def test_read_window_types_and_maturity(db):
    """Inputs extracted by SQL: floats (NaN for null), categories; outcome; matured by date."""
    engine = EventStore(db).engine
    frame = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW, outcome_days=365)
    assert len(frame) == 50
    assert frame["Income"].dtype == "float64" and frame["Income"].isna().sum() == 1
    assert str(frame["Home"].dtype) == "category" and set(frame["Home"].dropna()) == {
        "rent",
        "owner",
        "x",
    }
    assert frame["outcome"].notna().sum() == 30 and frame["matured"].sum() == 30
    recent = M.read_window(
        engine, ["Income"], ["Home"], since=NOW - dt.timedelta(days=7), until=NOW, outcome_days=365
    )
    assert len(recent) == 20 and recent["outcome"].isna().all() and not recent["matured"].any()


def test_read_window_last_n_and_chunks(db, monkeypatch):
    """--last N takes the newest events before --until; chunks join into one frame."""
    monkeypatch.setattr(M, "CHUNK_ROWS", 7)
    engine = EventStore(db).engine
    frame = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW, last=25)
    assert len(frame) == 25 and (frame["score"] == 0.2).sum() == 20
    assert str(frame["Home"].dtype) == "category"
    oldest = M.window_bounds(engine, NOW, 25)
    assert oldest is not None and oldest < NOW - dt.timedelta(days=399)
    assert M.window_bounds(engine, NOW - dt.timedelta(days=500), 5) is None
    empty = M.read_window(engine, ["Income"], ["Home"], since=NOW, until=NOW)
    assert empty.empty and list(empty.columns)


def test_runs_and_signals_round_trip(db):
    """save_run then history: newest first, signals by name, tables created idempotently."""
    engine = EventStore(db).engine
    M.ensure_tables(engine)
    M.ensure_tables(engine)
    report = {
        "generated_at": NOW.isoformat(),
        "level": "warning",
        "exit_code": 0,
        "window": {
            "since": None,
            "until": NOW.isoformat(),
            "by_time": False,
            "events": 50,
            "labelled": 30,
            "matured_labelled": 30,
        },
        "charts": {"history": [{"estimated_auc": 0.8, "estimated_auc_se": 0.01}]},
        "signals": [
            {
                "name": "score_psi",
                "group": "drift",
                "level": "warning",
                "breach": "critical",
                "value": 0.3,
            },
            {"name": "volume", "group": "volume", "level": "ok", "breach": "ok", "value": 50.0},
        ],
    }
    first = M.save_run(engine, report, {"score_psi": NOW})
    second = M.save_run(engine, {**report, "level": "ok"}, {})
    found = M.history(engine, 5)
    assert [run["run_id"] for run in found] == [second, first]
    assert found[1]["signals"]["score_psi"]["breach"] == "critical"
    assert found[1]["signals"]["score_psi"]["alerted_at"] == NOW
    assert found[0]["events"] == 50 and found[0]["estimated_auc"] == 0.8
    assert M.history(engine, 1)[0]["run_id"] == second
