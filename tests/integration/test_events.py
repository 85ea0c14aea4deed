"""The event database on a real PostgreSQL 15: migrations reach exactly schema.py's tables, and
a store made by main before migrations keeps every row through `kaizen events upgrade`."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kaizen import KaizenError, cli
from kaizen.events import migrate
from kaizen.events.engine import create_engine, database_url
from kaizen.events.schema import HEAD, METADATA
from tests.integration.conftest import fresh_database
from tests.unit.events.legacy import assert_every_row_found, make_main_store

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
