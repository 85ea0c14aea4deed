"""The monitor's window reads on an SQLite event store."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kaizen.events import windows as M
from kaizen.events.engine import create_engine
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
    engine = create_engine(db)
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
    engine = create_engine(db)
    frame = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW, last=25)
    assert len(frame) == 25 and (frame["score"] == 0.2).sum() == 20
    assert str(frame["Home"].dtype) == "category"
    oldest = M.window_bounds(engine, NOW, 25)
    assert oldest is not None and oldest < NOW - dt.timedelta(days=399)
    assert M.window_bounds(engine, NOW - dt.timedelta(days=500), 5) is None
    empty = M.read_window(engine, ["Income"], ["Home"], since=NOW, until=NOW)
    assert empty.empty and list(empty.columns)
