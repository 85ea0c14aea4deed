"""The event database's version: migrations reach exactly schema.py's tables, a store made by
main before migrations keeps every row through `kaizen events upgrade`, and everything else
refuses a store that is not at HEAD with one line."""

import json
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kaizen import KaizenError, cli
from kaizen.events import bundles, migrate
from kaizen.events.engine import create_engine, writing
from kaizen.events.schema import HEAD, METADATA
from tests.unit.events.legacy import assert_every_row_found, make_main_store
from tests.unit.helpers import assert_one_line_error


def versions(engine) -> tuple[str | None, str | None]:
    """(alembic_version, kaizen_store's store_version)."""
    with engine.connect() as conn:
        alembic = MigrationContext.configure(conn).get_current_revision()
        info = conn.exec_driver_sql(
            "SELECT value FROM kaizen_store WHERE key = 'store_version'"
        ).scalar()
    return alembic, info


def assert_schema_is_head(engine) -> None:
    """The database holds exactly METADATA's tables, at HEAD."""
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
    assert versions(engine) == (HEAD, HEAD)


def test_upgrade_creates_head_idempotently_and_sqlite_is_wal(tmp_path):
    """An empty file gets exactly schema.py's tables; a second upgrade changes nothing."""
    engine = create_engine(str(tmp_path / "e.db"))
    assert migrate.upgrade(engine) == migrate.Upgrade(None, HEAD)
    assert migrate.upgrade(engine) == migrate.Upgrade(HEAD, HEAD)
    assert migrate.revisions() == ["1", "2", "3", HEAD]
    assert_schema_is_head(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    migrate.require_head(engine)
    engine.dispose()


def test_downgrade_then_upgrade(tmp_path):
    """Every revision goes down and up again (the downgrades are not dead code)."""
    engine = create_engine(str(tmp_path / "e.db"))
    migrate.upgrade(engine)
    with writing(engine) as conn, conn.begin():
        command.downgrade(migrate.config(conn), "1")
    assert versions(engine) == ("1", "1")
    with pytest.raises(
        KaizenError, match=f"revision 1, this Kaizen needs {HEAD}: run `kaizen events"
    ):
        migrate.require_head(engine)
    with writing(engine) as conn, conn.begin():
        command.downgrade(migrate.config(conn), "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    assert migrate.upgrade(engine).created
    assert_schema_is_head(engine)
    engine.dispose()


@pytest.mark.parametrize("monitor", [True, False], ids=["monitor-ran", "monitor-never-ran"])
def test_store_made_by_main_keeps_every_row(tmp_path, capsys, monitor):
    """main's `kaizen events init` layout, with or without the monitor tables: refused until
    `kaizen events upgrade`, which stamps it at 1 and migrates it; every row is still there."""
    db = str(tmp_path / "main.db")
    make_main_store(f"sqlite:///{db}", monitor=monitor)
    engine = create_engine(db)
    with pytest.raises(
        KaizenError, match=f"revision 1, this Kaizen needs {HEAD}: run `kaizen events"
    ):
        migrate.require_head(engine)
    assert cli.main(["events", "upgrade", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "db": f"sqlite:///{db}",
        "from": "1",
        "to": HEAD,
    }
    assert_schema_is_head(engine)
    assert_every_row_found(db, monitor=monitor)
    assert cli.main(["events", "init", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["created"] is False
    engine.dispose()


def test_not_at_head_is_one_line(tmp_path, capsys):
    """No file, no tables, an older or an unknown revision: one line naming what to run."""
    with pytest.raises(KaizenError, match="no such event store: run `kaizen events init`"):
        migrate.require_head(create_engine(str(tmp_path / "none.db")))
    sa.create_engine(f"sqlite:///{tmp_path / 'bare.db'}").connect().close()
    with pytest.raises(KaizenError, match="has no tables: run `kaizen events init` first"):
        migrate.require_head(create_engine(str(tmp_path / "bare.db")))
    db = str(tmp_path / "e.db")
    engine = create_engine(db)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '99'")
    with pytest.raises(KaizenError, match="revision 99, unknown to this Kaizen"):
        migrate.require_head(engine)
    assert cli.main(["events", "upgrade", "--db", db]) == 1
    assert_one_line_error(capsys.readouterr().err, "event store at revision 99, unknown")
    engine.dispose()
    old = str(tmp_path / "old.db")
    make_main_store(f"sqlite:///{old}", monitor=False)
    assert cli.main(["events", "check", "--db", old]) == 1
    assert_one_line_error(capsys.readouterr().err, "run `kaizen events upgrade`")


def test_concurrent_upgrades(tmp_path):
    """Two processes upgrading one new file at once: the write lock makes the second wait and
    find the store at head."""
    engines = [create_engine(str(tmp_path / "e.db")) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(migrate.upgrade, engines))
    assert sorted(d.created for d in done) == [False, True]
    assert_schema_is_head(engines[0])
    for engine in engines:
        engine.dispose()


def test_store_at_revision_2_keeps_every_row(tmp_path, capsys):
    """A store at revision 2 (events, feedback, a registered bundle, a monitor run) is refused
    until `kaizen events upgrade`, which adds `bundle_test_scores` (empty for the old bundle)
    and keeps every row; registering the bundle again then adds its scores."""
    db = str(tmp_path / "two.db")
    make_main_store(f"sqlite:///{db}", monitor=True)
    engine = create_engine(db)
    with writing(engine) as conn, conn.begin():
        command.upgrade(migrate.config(conn), "1")
        command.upgrade(migrate.config(conn), "2")
    document = {"version": "abc123", "threshold": {"value": 0.3}, "profile": {}}
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO bundles (version, registered_at, threshold, metadata) VALUES "
            f"('abc123', '2026-01-01 00:00:00', 0.3, '{json.dumps(document)}')"
        )
    assert versions(engine) == ("2", "2")
    with pytest.raises(KaizenError, match=f"revision 2, this Kaizen needs {HEAD}"):
        migrate.require_head(engine)
    assert cli.main(["events", "upgrade", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == "2"
    assert_schema_is_head(engine)
    assert_every_row_found(db, monitor=True)
    assert bundles.read(engine, ["abc123"]) == {"abc123": document}
    assert bundles.read_scores(engine, "abc123").empty
    scores = pd.DataFrame({"row": [4, 9], "score": [0.1, 0.7], "label": [0, 1]})
    bundles.register(engine, document, scores)
    pd.testing.assert_frame_equal(bundles.read_scores(engine, "abc123"), scores)
    engine.dispose()


def test_a_failed_upgrade_is_one_line_and_changes_nothing(tmp_path, capsys):
    """A store the migration cannot write (here: a table of revision 2 already there): one line,
    and the store left as it was."""
    db = str(tmp_path / "main.db")
    make_main_store(f"sqlite:///{db}", monitor=True)
    engine = create_engine(db)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bundles (x INTEGER)")
    assert cli.main(["events", "upgrade", "--db", db]) == 1
    assert_one_line_error(capsys.readouterr().err, "event store not upgraded", "bundles")
    assert versions(engine) == (None, "1")
    engine.dispose()
