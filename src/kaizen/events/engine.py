"""Connections to the event database: `KAIZEN_DB` -> an SQLAlchemy engine with the backend's
durability settings.

SQLite (default: one file, WAL journal, `synchronous=FULL` so that a committed event survives a
crash of the process and of the machine) or PostgreSQL through psycopg 3 (several API replicas
on one database).

Faults: SQLite's file is created once, mode 0600 whatever the umask (its -wal and -shm files
take the same mode), by `create_sqlite_file` (`kaizen events init`); every other connection
opens it with `mode=rw`, so a missing file is an error, never a new empty store. SQLite silently
opens a write-protected file read-only: after a read-only, I/O or cannot-open error (and, on
PostgreSQL, a read-only transaction after a fail-over) the pool is invalidated, so that no such
connection outlives the fault. `writable` is the readiness probe: a write transaction, rolled
back.
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kaizen import KaizenError
from kaizen.events.schema import PREDICTIONS, utc

# The engine's type as the shell (commands/, serving/) names it: they hold an engine without
# importing SQLAlchemy themselves (the layout's rule: only the edge imports I/O modules).
EventEngine = Engine

BUSY_TIMEOUT_MS = 10_000  # SQLite: wait this long for another writer before failing
# Driver errors after which a pooled connection may be stuck (SQLite's read-only fallback, a
# failed disk, a PostgreSQL standby): the pool is emptied, the next request reconnects.
SQLITE_FAULTS = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")
PG_READ_ONLY = "25006"  # read_only_sql_transaction
PROBE_ROW: dict[str, Any] = {  # written by the readiness probe, always rolled back
    "prediction_id": "00000000-0000-0000-0000-000000000000",
    "created_at": dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
    "request_id": "ready",
    "model_version": "ready",
    "schema_version": "ready",
    "inputs": {},
    "pii_fields": [],
    "score": 0.0,
    "threshold": 0.5,
    "decision": "accept",
    "reasons": [],
    "unseen": {},
    "latency_ms": 0.0,
}


class StoreError(Exception):
    """The store cannot be reached or written (the API answers 503)."""


def database_url(db: str) -> str:
    """`KAIZEN_DB` -> an SQLAlchemy URL: a path or `sqlite:///…` is SQLite, `postgresql://…`
    PostgreSQL through psycopg 3."""
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if db.startswith(("postgresql+psycopg://", "sqlite:///")):
        return db
    if "://" in db or db.startswith("sqlite:"):
        raise KaizenError(
            f"KAIZEN_DB: {db.split(':', 1)[0]!r}: use a path, sqlite:///… or postgresql://…"
        )
    return f"sqlite:///{Path(db).resolve()}"


def sqlite_path(engine: Engine) -> Path | None:
    """The SQLite file of `engine` (None for another backend)."""
    if engine.dialect.name != "sqlite":
        return None
    return Path(urllib.parse.unquote(str(engine.url.database).removeprefix("file:")))


def create_sqlite_file(path: Path) -> bool:
    """Create an empty SQLite file, mode 0600 whatever the umask (it holds personal data);
    False when it exists already (left as it is)."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise KaizenError(f"KAIZEN_DB: {path}: cannot create ({exc.strerror})") from None
    try:
        os.fchmod(handle, 0o600)  # a umask can only take bits away; 0600 is the floor and cap
    finally:
        os.close(handle)
    return True


def _drop_pool_on_fault(context: Any) -> None:
    """SQLAlchemy's `handle_error` hook: a fault that can leave a connection unusable counts as
    a disconnect, which invalidates every pooled connection."""
    error = context.original_exception
    name = str(getattr(error, "sqlite_errorname", ""))
    state = getattr(getattr(error, "diag", None), "sqlstate", None) or getattr(
        error, "sqlstate", None
    )
    if name.startswith(SQLITE_FAULTS) or state == PG_READ_ONLY:
        context.is_disconnect = True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: WAL, full fsync on commit, foreign keys, wait for other writers; and let
    `_sqlite_begin` issue BEGIN (the driver's implicit one cannot be IMMEDIATE)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writes take the write lock up front (BEGIN IMMEDIATE), so that two read-then-write
    transactions wait for each other instead of failing at once with 'database is locked'.
    A transaction of one statement (execution option `single`) needs no BEGIN: SQLite makes
    that statement a transaction of its own, atomic and committed (synced) when it returns."""
    options = connection.get_execution_options()
    if not options.get("single", False):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write", False) else "BEGIN")


def sqlite_time(value: dt.datetime) -> str:
    """A UTC time as SQLAlchemy's SQLite DateTime stores it (naive ISO text, microseconds)."""
    return utc(value).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def json_text(value: Any) -> str:
    """JSON columns as text, with orjson (the stdlib encoder was a third of a batch's insert)."""
    return orjson.dumps(value).decode()


def create_engine(db: str) -> Engine:
    """An engine for `KAIZEN_DB` with the backend's durability settings."""
    url = database_url(db)
    options: dict[str, Any] = {"pool_size": 8, "max_overflow": 8, "json_serializer": json_text}
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.parent.is_dir():
            raise KaizenError(f"KAIZEN_DB: {path.parent}: no such directory")
        rw_only = sa.engine.URL.create(
            "sqlite",
            database=f"file:{urllib.parse.quote(str(path))}",
            query={"mode": "rw", "uri": "true"},
        )
        engine = sa.create_engine(rw_only, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = sa.create_engine(
            url, pool_pre_ping=True, connect_args={"connect_timeout": 5}, **options
        )
    sa.event.listen(engine, "handle_error", _drop_pool_on_fault)
    return engine


def writing(engine: Engine) -> Connection:
    """A connection for a write transaction (SQLite: BEGIN IMMEDIATE); use as
    `with writing(engine) as conn, conn.begin(): …`."""
    return engine.connect().execution_options(write=True)


def ping(engine: Engine) -> bool:
    """True when the prediction table can be read now."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.select(PREDICTIONS.c.prediction_id).limit(1)).all()
    except SQLAlchemyError:
        return False
    return True


def writable(engine: Engine) -> bool:
    """True when a write transaction can be taken and an event written now (then rolled back):
    what a prediction needs, which a read (`ping`) does not prove. SQLite keeps a rolled-back
    write in memory, so its files are also checked for write permission (an immutable or
    read-only file fails here before a commit fails)."""
    path = sqlite_path(engine)
    if path is not None:
        siblings = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
        files = [path, *(sibling for sibling in siblings if sibling.exists())]
        if not all(os.access(file, os.R_OK | os.W_OK) for file in files):
            return False
    try:
        with writing(engine) as conn:
            transaction = conn.begin()
            try:
                conn.execute(PREDICTIONS.insert().values(PROBE_ROW))
            finally:
                transaction.rollback()
    except SQLAlchemyError:
        return False
    return True


def first_line(exc: BaseException) -> str:
    """The driver's message, first line, without SQLAlchemy's background link."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
