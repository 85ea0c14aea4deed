"""The engine's fault handling on SQLite: the file made 0600 by init whatever the umask, never
created by an ordinary connection (mode=rw), writability proved by the readiness probe, and the
pool dropped after a fault that can leave a connection read-only."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from kaizen.events import migrate, predictions
from kaizen.events.engine import (
    _drop_pool_on_fault,
    create_engine,
    create_sqlite_file,
    ping,
    sqlite_path,
    writable,
)
from tests.unit.events.test_predictions import T0, event, record


def mode(path: Path) -> int:
    """The permission bits of `path`."""
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    """Run the block under this umask."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """`path` cannot be written for the block: immutable as root (root ignores modes), else
    read-only."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o400)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o600)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_init_creates_the_store_0600_whatever_the_umask(tmp_path, mask):
    """The file and its -wal and -shm (SQLite gives them the file's mode) are 0600: never
    world-readable under umask 0, still writable by the owner under umask 0277."""
    db = tmp_path / "events.db"
    with umask(mask):
        engine = create_engine(str(db))
        migrate.upgrade(engine)
        record(engine, [event(T0)])
        made = sorted(path.name for path in tmp_path.iterdir())
        modes = {path.name: mode(path) for path in tmp_path.iterdir()}
        engine.dispose()
    assert made == ["events.db", "events.db-shm", "events.db-wal"]
    assert set(modes.values()) == {0o600}, modes


def test_an_existing_file_is_left_as_it_is(tmp_path):
    """create_sqlite_file never truncates or re-modes a store it did not create."""
    db = tmp_path / "events.db"
    db.write_bytes(b"")
    db.chmod(0o640)
    assert create_sqlite_file(db) is False
    assert mode(db) == 0o640
    assert create_sqlite_file(tmp_path / "new.db") is True


def test_a_connection_never_creates_the_store(tmp_path):
    """mode=rw: reaching a missing store fails (ping False) and leaves no empty file behind."""
    db = tmp_path / "missing.db"
    engine = create_engine(str(db))
    assert ping(engine) is False and writable(engine) is False
    assert not db.exists()


def test_paths_with_uri_characters(tmp_path):
    """The file URI is quoted: `?`, `#`, `%` and spaces in a path name one file."""
    db = tmp_path / "odd ?#% name.db"
    engine = create_engine(str(db))
    migrate.upgrade(engine)
    record(engine, [event(T0)])
    assert sqlite_path(engine) == db and predictions.count(engine) == 1
    engine.dispose()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["odd ?#% name.db"]


def test_writable_fails_on_an_unwritable_file_then_recovers(db):
    """The probe says False while the file cannot be written, True again after, and leaves
    no row behind."""
    engine = create_engine(db)
    assert writable(engine) is True
    with unwritable(Path(db)):
        assert writable(engine) is False
        assert ping(engine) is True  # still readable: /health says reachable
    assert writable(engine) is True
    assert predictions.count(engine) == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "sqlstate", "dropped"),
    [
        ("SQLITE_READONLY", None, True),
        ("SQLITE_READONLY_DBMOVED", None, True),
        ("SQLITE_IOERR_WRITE", None, True),
        ("SQLITE_CANTOPEN", None, True),
        ("SQLITE_BUSY", None, False),
        ("SQLITE_CONSTRAINT_PRIMARYKEY", None, False),
        ("", "25006", True),
        ("", "23505", False),
    ],
)
def test_faults_that_drop_the_pool(name, sqlstate, dropped):
    """Read-only, I/O and cannot-open errors (and PostgreSQL's read-only transaction) count as
    a disconnect, which empties the pool; a busy store or a constraint does not."""
    error = sqlite3.OperationalError("x")
    error.sqlite_errorname = name  # type: ignore[attr-defined]
    error.sqlstate = sqlstate  # type: ignore[attr-defined]
    context = SimpleNamespace(original_exception=error, is_disconnect=False)
    _drop_pool_on_fault(context)
    assert context.is_disconnect is dropped
