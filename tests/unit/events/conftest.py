"""Fixtures: an initialised SQLite event store."""

from __future__ import annotations

import pytest

from kaizen.events.predictions import EventStore


@pytest.fixture(name="db")
def fixture_db(tmp_path) -> str:
    """Path of an initialised, empty SQLite store."""
    path = str(tmp_path / "events.db")
    store = EventStore(path)
    store.init()
    store.close()
    return path
