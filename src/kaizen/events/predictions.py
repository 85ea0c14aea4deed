"""The event store: every prediction, written durably before the API acknowledges it, and the
outcomes that come back months later (joined on the prediction id).

SQLAlchemy Core over SQLite (default: one file, WAL journal, `synchronous=FULL` so that a
committed event survives a crash of the process and of the machine) or PostgreSQL through
psycopg 3 (several API replicas on one database). Tables are created only by `init`
(`kaizen events init`), which is idempotent; the API refuses to start on a store without them.
Timestamps are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kaizen import KaizenError

STORE_VERSION = "1"  # bumped with any change of the tables below
BUSY_TIMEOUT_MS = 10_000  # SQLite: wait this long for another writer before failing


class UtcDateTime(sa.TypeDecorator):  # pylint: disable=too-many-ancestors,abstract-method
    """Aware UTC datetimes in and out, whatever the backend keeps (SQLite keeps naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        """Aware -> UTC (naive for SQLite); a naive value is taken as UTC already."""
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        """Always aware UTC."""
        return None if value is None else utc(value)


METADATA = sa.MetaData()
PREDICTIONS = sa.Table(
    "predictions",
    METADATA,
    sa.Column("prediction_id", sa.String(36), primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.String(64), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),  # PII fields dropped or hashed (pii.py)
    sa.Column("pii_fields", sa.JSON, nullable=False),  # which inputs were dropped or hashed
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("decision", sa.String(8), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("unseen", sa.JSON, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
)
FEEDBACK = sa.Table(
    "feedback",
    METADATA,
    sa.Column(
        "prediction_id",
        sa.String(36),
        sa.ForeignKey("predictions.prediction_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("outcome", sa.SmallInteger, nullable=False),
    sa.Column("observed_at", UtcDateTime, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
)
INFO = sa.Table(
    "kaizen_store",
    METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
EVENT_FIELDS = [column.name for column in PREDICTIONS.columns if column.name != "inputs"]
JSON_COLUMNS = [column.name for column in PREDICTIONS.columns if isinstance(column.type, sa.JSON)]
ROW = tuple(column.name for column in PREDICTIONS.columns)  # field order of `insert`'s tuples
PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # by the driver's paramstyle
POSTGRES_PARAMETERS = 65_535  # per statement: the wire protocol counts them in 16 bits


class StoreError(Exception):
    """The store cannot be reached or written (the API answers 503)."""


class UnknownPrediction(LookupError):
    """Feedback for a prediction id the store does not hold."""


class OutcomeConflict(ValueError):
    """Feedback that contradicts the outcome already stored."""


@dataclass(frozen=True)
class Outcome:
    """The stored feedback of one prediction."""

    prediction_id: str
    outcome: int
    observed_at: dt.datetime
    created: bool


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
    options = {"pool_size": 8, "max_overflow": 8, "json_serializer": json_text}
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.parent.is_dir():
            raise KaizenError(f"KAIZEN_DB: {path.parent}: no such directory")
        engine = sa.create_engine(url, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5}, **options)


class EventStore:
    """Predictions and feedback in one database."""

    def __init__(self, db: str):
        self.url = database_url(db)
        self.engine = create_engine(db)

    def _write(self) -> Connection:
        """A write transaction (committed on exit, rolled back on error)."""
        return self.engine.connect().execution_options(write=True)

    def init(self) -> bool:
        """Create the tables and record the store version; True when they were created now.
        Idempotent; refuses a store of another version."""
        with self.engine.connect() as conn:
            existed = sa.inspect(conn).has_table(INFO.name)
        with self._write() as conn, conn.begin():
            METADATA.create_all(conn, checkfirst=True)
            version = conn.execute(
                sa.select(INFO.c.value).where(INFO.c.key == "store_version")
            ).scalar()
            if version is None:
                conn.execute(INFO.insert().values(key="store_version", value=STORE_VERSION))
            elif version != STORE_VERSION:
                raise KaizenError(
                    f"KAIZEN_DB: event store version {version}, this Kaizen reads {STORE_VERSION}"
                )
        return not existed

    def check_ready(self) -> None:
        """Raise a one-line error unless the store is reachable and initialised."""
        if self.url.startswith("sqlite") and not Path(self.url.removeprefix("sqlite:///")).exists():
            raise KaizenError(
                f"KAIZEN_DB: {self.url.removeprefix('sqlite:///')}: no such event store: run "
                "`kaizen events init` first"
            )
        try:
            with self.engine.connect() as conn:
                version = conn.execute(
                    sa.select(INFO.c.value).where(INFO.c.key == "store_version")
                ).scalar()
        except SQLAlchemyError as exc:
            if "kaizen_store" in str(exc):
                raise KaizenError(
                    "KAIZEN_DB: the event store has no tables: run `kaizen events init` first"
                ) from None
            raise KaizenError(f"KAIZEN_DB: event store unreachable ({_first_line(exc)})") from None
        if version != STORE_VERSION:
            raise KaizenError(
                f"KAIZEN_DB: event store version {version}, this Kaizen reads {STORE_VERSION}"
            )

    def ping(self) -> bool:
        """True when the prediction table can be read now."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(PREDICTIONS.c.prediction_id).limit(1)).all()
        except SQLAlchemyError:
            return False
        return True

    def stored_time(self, value: dt.datetime) -> Any:
        """A time as this backend's driver takes it in `insert` (SQLite: naive UTC text)."""
        return sqlite_time(value) if self.engine.dialect.name == "sqlite" else utc(value)

    def insert(self, rows: list[tuple]) -> None:
        """Insert prediction events given as tuples in `ROW` order (JSON columns as text,
        `created_at` as `stored_time` gives it) in one transaction. StoreError if anything
        fails (then none is stored).

        Multi-row INSERT statements, as many rows each as the backend binds parameters: no
        per-value work in SQLAlchemy (half of a 1,000-event insert), and one SQLite step per
        statement instead of one per row (`executemany`), each step giving the interpreter's
        lock away and waiting to get it back from the scoring thread (30 ms instead of 3 ms
        for 1,000 events while it scored). For the same reason, on SQLite a single statement
        is its own transaction, without BEGIN and COMMIT round trips."""
        if not rows:
            return
        marker = PLACEHOLDER[self.engine.dialect.paramstyle]
        values = f"({', '.join([marker] * len(ROW))})"
        head = f"INSERT INTO {PREDICTIONS.name} ({', '.join(ROW)}) VALUES "
        try:
            with self.engine.connect() as conn:
                size = max(1, self._parameter_limit(conn) // len(ROW))
                conn.execution_options(write=True, single=len(rows) <= size)
                with conn.begin():
                    for start in range(0, len(rows), size):
                        part = rows[start : start + size]
                        conn.exec_driver_sql(
                            head + ", ".join([values] * len(part)),
                            tuple(chain.from_iterable(part)),
                        )
        except SQLAlchemyError as exc:
            raise StoreError(_first_line(exc)) from exc

    def _parameter_limit(self, conn: Connection) -> int:
        """How many parameters one statement may bind on this backend."""
        if self.engine.dialect.name == "sqlite":
            driver = conn.connection.driver_connection
            return driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore
        return POSTGRES_PARAMETERS

    def record(self, events: list[dict[str, Any]]) -> None:
        """Insert prediction events given as dicts of `ROW`'s fields (JSON values, aware
        times); see `insert`."""
        json_columns = set(JSON_COLUMNS)
        self.insert(
            [
                tuple(
                    (
                        json_text(event[name])
                        if name in json_columns
                        else self.stored_time(event[name]) if name == "created_at" else event[name]
                    )
                    for name in ROW
                )
                for event in events
            ]
        )

    def add_feedback(
        self, prediction_id: str, outcome: int, observed_at: dt.datetime, now: dt.datetime
    ) -> Outcome:
        """Store an outcome once; the same outcome again is a no-op, a different one conflicts."""
        try:
            return self._add_feedback(prediction_id, outcome, observed_at, now)
        except IntegrityError:  # another request stored it between our read and our insert
            return self._add_feedback(prediction_id, outcome, observed_at, now)
        except SQLAlchemyError as exc:
            raise StoreError(_first_line(exc)) from exc

    def _add_feedback(
        self, prediction_id: str, outcome: int, observed_at: dt.datetime, now: dt.datetime
    ) -> Outcome:
        with self._write() as conn, conn.begin():
            known = conn.execute(
                sa.select(PREDICTIONS.c.prediction_id).where(
                    PREDICTIONS.c.prediction_id == prediction_id
                )
            ).first()
            if known is None:
                raise UnknownPrediction(prediction_id)
            stored = conn.execute(
                sa.select(FEEDBACK.c.outcome, FEEDBACK.c.observed_at).where(
                    FEEDBACK.c.prediction_id == prediction_id
                )
            ).first()
            if stored is None:
                conn.execute(
                    FEEDBACK.insert().values(
                        prediction_id=prediction_id,
                        outcome=outcome,
                        observed_at=observed_at,
                        received_at=now,
                    )
                )
                return Outcome(prediction_id, outcome, utc(observed_at), True)
        if stored.outcome != outcome:
            raise OutcomeConflict(
                f"prediction {prediction_id} already has outcome {stored.outcome}"
            )
        return Outcome(prediction_id, stored.outcome, stored.observed_at, False)

    def events(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        labelled_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Events created in [since, until), oldest first, each with its outcome (or None)."""
        query = (
            sa.select(PREDICTIONS, FEEDBACK.c.outcome, FEEDBACK.c.observed_at)
            .select_from(PREDICTIONS.outerjoin(FEEDBACK))
            .order_by(PREDICTIONS.c.created_at, PREDICTIONS.c.prediction_id)
        )
        if since is not None:
            query = query.where(PREDICTIONS.c.created_at >= since)
        if until is not None:
            query = query.where(PREDICTIONS.c.created_at < until)
        if labelled_only:
            query = query.where(FEEDBACK.c.outcome.is_not(None))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def purge(self, before: dt.datetime) -> dict[str, int]:
        """Delete the events created before `before`, with their feedback (retention)."""
        old = sa.select(PREDICTIONS.c.prediction_id).where(PREDICTIONS.c.created_at < before)
        with self._write() as conn, conn.begin():
            feedback = conn.execute(FEEDBACK.delete().where(FEEDBACK.c.prediction_id.in_(old)))
            predictions = conn.execute(
                PREDICTIONS.delete().where(PREDICTIONS.c.created_at < before)
            )
        return {"predictions": predictions.rowcount, "feedback": feedback.rowcount}

    def count(self) -> int:
        """Number of stored predictions."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(PREDICTIONS)).scalar_one()

    def integrity(self) -> list[str]:
        """Problems found by the backend's own check and by reading every event back; [] = ok."""
        problems = []
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
                problems += [f"sqlite: {row}" for row in rows if row != "ok"]
                orphans = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            else:
                orphans = conn.execute(
                    sa.select(FEEDBACK.c.prediction_id)
                    .select_from(FEEDBACK.outerjoin(PREDICTIONS))
                    .where(PREDICTIONS.c.prediction_id.is_(None))
                ).all()
            problems += [f"feedback without a prediction: {len(orphans)}"] if orphans else []
            for row in conn.execute(sa.select(PREDICTIONS.c.prediction_id, PREDICTIONS.c.inputs)):
                if not isinstance(row.inputs, dict):
                    problems.append(f"prediction {row.prediction_id}: unreadable inputs")
        return problems

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _first_line(exc: BaseException) -> str:
    """The driver's message, first line, without SQLAlchemy's background link."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
