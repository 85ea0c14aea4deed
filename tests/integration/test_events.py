"""The event database on a real PostgreSQL 15: migrations reach exactly schema.py's tables, a
store made by main before migrations keeps every row through `kaizen events upgrade`, and the
monitor's column-wise window read gives the frame the SQL-extraction reader gave."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kaizen import KaizenError, cli
from kaizen.events import migrate, windows
from kaizen.events.engine import create_engine, database_url
from kaizen.events.schema import HEAD, METADATA
from tests.integration.conftest import fresh_database
from tests.unit.events import old_window
from tests.unit.events.legacy import assert_every_row_found, make_main_store
from tests.unit.events.test_windows import (
    CATEGORICAL,
    NOW,
    NUMERIC,
    assert_same_frames,
    fill,
    varied_events,
)

pytestmark = pytest.mark.integration


def test_upgrade_creates_head_on_postgres(postgres):
    """An empty database gets exactly schema.py's tables (types, keys, indexes); twice is a
    no-op."""
    engine = create_engine(fresh_database(postgres))
    try:
        assert migrate.upgrade(engine).created
        assert not migrate.upgrade(engine).created
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
        migrate.require_head(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("monitor", [True, False], ids=["monitor-ran", "monitor-never-ran"])
def test_store_made_by_main_keeps_every_row_on_postgres(postgres, capsys, monitor):
    """main's layout on PostgreSQL: refused, then upgraded by the CLI with every row intact."""
    db = fresh_database(postgres)
    make_main_store(database_url(db), monitor=monitor)
    engine = create_engine(db)
    try:
        with pytest.raises(KaizenError, match="run `kaizen events upgrade`"):
            migrate.require_head(engine)
        assert cli.main(["events", "upgrade", "--db", db]) == 0
        assert json.loads(capsys.readouterr().out)["from"] == "1"
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
            assert MigrationContext.configure(conn).get_current_revision() == HEAD
        assert_every_row_found(db, monitor=monitor)
    finally:
        engine.dispose()


def test_window_read_is_the_same_frame_on_postgres(postgres, monkeypatch):
    """The column-wise reader gives the frame the SQL-extraction reader gave, on PostgreSQL
    too (one chunk and many); a numeric field hashed as PII, which made that reader fail, is
    missing."""
    db = fresh_database(postgres)
    fill(db, varied_events(600))
    assert_same_frames(db)
    monkeypatch.setattr(windows, "CHUNK_ROWS", 64)
    monkeypatch.setattr(old_window, "CHUNK_ROWS", 1000)
    assert_same_frames(db)
    hashed = fresh_database(postgres)
    fill(hashed, varied_events(200, hashed_numbers=True))
    engine = create_engine(hashed)
    try:
        frame = windows.read_window(engine, NUMERIC, CATEGORICAL, since=None, until=NOW)
        assert len(frame) == 200 and frame["Income"].isna().sum() > 200 // 17
        with pytest.raises(Exception, match="invalid input syntax for type double precision"):
            old_window.read_window(engine, NUMERIC, CATEGORICAL, since=None, until=NOW)
    finally:
        engine.dispose()


def test_concurrent_upgrades_on_postgres(postgres):
    """Two replicas upgrading one empty database at once: one creates, the other waits for it
    (an advisory lock) and finds the store at head."""
    db = fresh_database(postgres)
    engines = [create_engine(db) for _ in range(2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(migrate.upgrade, engines))
        assert sorted(d.created for d in done) == [False, True]
        migrate.require_head(engines[0])
    finally:
        for engine in engines:
            engine.dispose()
