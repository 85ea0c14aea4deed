"""Daily profiles in the event store: saved, replaced, read by version and day; day counts from
the creation-time index."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kaizen.events import profiles as M
from kaizen.events.engine import create_engine
from tests.unit.monitoring.events import store_events

DAY0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


def test_save_replace_load(db):
    """A day's profile is stored once per version and day; saving again replaces it."""
    engine = create_engine(db)
    M.save(engine, "v1", DAY0, M.Stored(3, 5, b"one"), DAY0)
    M.save(engine, "v2", DAY0, M.Stored(2, 5, b"other"), DAY0)
    M.save(engine, "v1", DAY0, M.Stored(4, 6, b"two"), DAY0 + M.DAY)
    found = M.load(engine, "v1", [DAY0, DAY0 + M.DAY])
    assert found == {DAY0: M.Stored(4, 6, b"two")}
    assert M.load(engine, "v1", []) == {}
    engine.dispose()


def test_day_counts_and_day_start(db):
    """Events per UTC day, every version; a time's day starts at 00:00 UTC."""
    frame = pd.DataFrame({"Income": np.arange(5.0)})
    store_events(db, frame, np.full(5, 0.1), DAY0 + dt.timedelta(hours=23))
    store_events(db, frame.head(2), np.full(2, 0.1), DAY0 + M.DAY, model_version="v2")
    engine = create_engine(db)
    days = [DAY0, DAY0 + M.DAY, DAY0 + 2 * M.DAY]
    assert M.day_counts(engine, days) == dict(zip(days, [5, 2, 0]))
    engine.dispose()
    paris = dt.timezone(dt.timedelta(hours=2))
    assert M.day_start(dt.datetime(2026, 5, 2, 1, 30, tzinfo=paris)) == DAY0
