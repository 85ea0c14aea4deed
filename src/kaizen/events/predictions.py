"""Prediction events, written durably before the API acknowledges them, and the outcomes that
come back months later (joined on the prediction id).

Timestamps are stored in UTC. The API writes through `insert` (multi-row statements), feedback
through `add_feedback` (once per prediction); `matured` is when an outcome can be judged (the
monitor's window reads it); `events`, `purge`, `count` and `integrity` serve `kaizen events`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kaizen.events.engine import StoreError, first_line, json_text, sqlite_time, writing
from kaizen.events.schema import FEEDBACK, PREDICTIONS, utc

EVENT_FIELDS = [column.name for column in PREDICTIONS.columns if column.name != "inputs"]
PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # by the driver's paramstyle
POSTGRES_PARAMETERS = 65_535  # per statement: the wire protocol counts them in 16 bits


class UnknownPrediction(LookupError):
    """Feedback for a prediction id the store does not hold."""


class ImplausibleTime(ValueError):
    """An outcome observed before its prediction was made, or too far in the future."""


class OutcomeConflict(ValueError):
    """Feedback that contradicts the outcome already stored."""


@dataclass(slots=True)
class PredictionRow:  # pylint: disable=too-many-instance-attributes  # one per column
    """One prediction event, as the API stores it: a field per column of `predictions`, in
    their order (a test keeps them equal)."""

    prediction_id: str
    created_at: dt.datetime  # aware; the events of one batch share one object
    request_id: str
    model_version: str
    schema_version: str
    inputs: dict[str, Any]  # after the PII policy (pii.py)
    pii_fields: list[str]  # which inputs were dropped or hashed
    score: float
    threshold: float
    decision: str
    reasons: list[dict[str, Any]]
    unseen: dict[str, str]
    latency_ms: float


COLUMNS = tuple(field.name for field in fields(PredictionRow))


@dataclass(frozen=True)
class Outcome:
    """The stored feedback of one prediction."""

    prediction_id: str
    outcome: int
    observed_at: dt.datetime
    created: bool


def insert(engine: Engine, rows: Sequence[PredictionRow]) -> None:
    """Insert prediction events in one transaction; StoreError if anything fails (then none is
    stored).

    Multi-row INSERT statements, as many rows each as the backend binds parameters: no
    per-value work in SQLAlchemy (half of a 1,000-event insert), and one SQLite step per
    statement instead of one per row (`executemany`), each step giving the interpreter's
    lock away and waiting to get it back from the scoring thread (30 ms instead of 3 ms
    for 1,000 events while it scored). For the same reason, on SQLite a single statement
    is its own transaction, without BEGIN and COMMIT round trips."""
    if not rows:
        return
    marker = PLACEHOLDER[engine.dialect.paramstyle]
    values = f"({', '.join([marker] * len(COLUMNS))})"
    head = f"INSERT INTO {PREDICTIONS.name} ({', '.join(COLUMNS)}) VALUES "
    flat = parameters(rows, engine.dialect.name == "sqlite")
    try:
        with engine.connect() as conn:
            size = max(1, parameter_limit(conn) // len(COLUMNS))
            conn.execution_options(write=True, single=len(rows) <= size)
            with conn.begin():
                for start in range(0, len(rows), size):
                    part = flat[start * len(COLUMNS) : (start + size) * len(COLUMNS)]
                    rows_in_part = len(part) // len(COLUMNS)
                    conn.exec_driver_sql(head + ", ".join([values] * rows_in_part), tuple(part))
    except SQLAlchemyError as exc:
        raise StoreError(first_line(exc)) from exc


def parameters(rows: Sequence[PredictionRow], sqlite: bool) -> list[Any]:
    """The rows' values as the driver binds them, in COLUMNS order, flat: JSON as text, times
    in UTC (SQLite: naive ISO text). A batch's rows share their time and PII list: each is
    converted once per distinct object, and an empty `unseen` is not encoded at all (together
    a tenth of a 1,000-event insert)."""
    flat: list[Any] = []
    when: dt.datetime | None = None
    pii: list[str] | None = None
    stamp: Any = None
    pii_text = ""
    for row in rows:
        if row.created_at is not when:
            when = row.created_at
            stamp = sqlite_time(when) if sqlite else utc(when)
        if row.pii_fields is not pii:
            pii = row.pii_fields
            pii_text = json_text(pii)
        flat += (
            row.prediction_id,
            stamp,
            row.request_id,
            row.model_version,
            row.schema_version,
            json_text(row.inputs),
            pii_text,
            row.score,
            row.threshold,
            row.decision,
            json_text(row.reasons),
            json_text(row.unseen) if row.unseen else "{}",
            row.latency_ms,
        )
    return flat


def parameter_limit(conn: Connection) -> int:
    """How many parameters one statement may bind on this backend."""
    if conn.dialect.name == "sqlite":
        driver: Any = conn.connection.driver_connection  # sqlite3.Connection
        return int(driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return POSTGRES_PARAMETERS


def matured(until: dt.datetime, outcome_days: int) -> sa.ColumnElement[bool]:
    """Whether an event's outcome can be judged at `until`: the outcome-maturity rule, here
    only, in SQL. Defaults mature over months in credit: an outcome is judged once its event is
    `outcome_days` old (`monitor.outcome_window_days`); younger ones are counted, not judged."""
    return PREDICTIONS.c.created_at <= until - dt.timedelta(days=outcome_days)


def add_feedback(  # pylint: disable=too-many-arguments
    engine: Engine,
    prediction_id: str,
    outcome: int,
    observed_at: dt.datetime,
    now: dt.datetime,
    *,
    skew: dt.timedelta | None = None,
) -> Outcome:
    """Store an outcome once; the same outcome again is a no-op, a different one conflicts.
    With `skew`, `observed_at` must lie between the prediction's time and `now + skew`
    (ImplausibleTime otherwise, checked once the prediction is known to exist)."""
    try:
        return _add_feedback(engine, prediction_id, outcome, observed_at, now, skew)
    except IntegrityError:  # another request stored it between our read and our insert
        return _add_feedback(engine, prediction_id, outcome, observed_at, now, skew)
    except SQLAlchemyError as exc:
        raise StoreError(first_line(exc)) from exc


def _add_feedback(  # pylint: disable=too-many-arguments,too-many-positional-arguments
    engine: Engine,
    prediction_id: str,
    outcome: int,
    observed_at: dt.datetime,
    now: dt.datetime,
    skew: dt.timedelta | None,
) -> Outcome:
    with writing(engine) as conn, conn.begin():
        known = conn.execute(
            sa.select(PREDICTIONS.c.created_at).where(PREDICTIONS.c.prediction_id == prediction_id)
        ).first()
        if known is None:
            raise UnknownPrediction(prediction_id)
        if skew is not None:
            _plausible(observed_at, known.created_at, now + skew)
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
        raise OutcomeConflict(f"prediction {prediction_id} already has outcome {stored.outcome}")
    return Outcome(prediction_id, stored.outcome, stored.observed_at, False)


def _plausible(observed_at: dt.datetime, created_at: Any, latest: dt.datetime) -> None:
    """ImplausibleTime unless created_at <= observed_at <= latest."""
    made = utc(
        created_at if isinstance(created_at, dt.datetime) else dt.datetime.fromisoformat(created_at)
    )
    if observed_at < made:
        raise ImplausibleTime("is before the prediction was made")
    if observed_at > latest:
        raise ImplausibleTime("is in the future")


def events(
    engine: Engine,
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
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def purge(engine: Engine, before: dt.datetime) -> dict[str, int]:
    """Delete the events created before `before`, with their feedback (retention)."""
    old = sa.select(PREDICTIONS.c.prediction_id).where(PREDICTIONS.c.created_at < before)
    with writing(engine) as conn, conn.begin():
        feedback = conn.execute(FEEDBACK.delete().where(FEEDBACK.c.prediction_id.in_(old)))
        predictions = conn.execute(PREDICTIONS.delete().where(PREDICTIONS.c.created_at < before))
    return {"predictions": predictions.rowcount, "feedback": feedback.rowcount}


def count(engine: Engine) -> int:
    """Number of stored predictions."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(PREDICTIONS)).scalar_one())


def integrity(engine: Engine) -> list[str]:
    """Problems found by the backend's own check and by reading every event back; [] = ok."""
    problems = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
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
