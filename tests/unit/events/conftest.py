"""Fixtures: an initialised SQLite event store."""

from __future__ import annotations

import pytest

from kaizen.events import migrate
from kaizen.events.engine import create_engine


@pytest.fixture(name="db")
def fixture_db(tmp_path) -> str:
    """Path of an initialised, empty SQLite store."""
    path = str(tmp_path / "events.db")
    engine = create_engine(path)
    migrate.upgrade(engine)
    engine.dispose()
    return path
