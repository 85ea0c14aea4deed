"""The monitor's side of the event store: windows of events read in chunks, and every run's
results kept in two tables of the same database (`monitor_runs`, `monitor_signals`), so that
their history is queryable by SQL (Grafana, Superset) and drives the persistence rule, the alert
cooldown and the trend charts.

A window is read with the inputs extracted by the database (JSON -> typed columns), the maturity
of each outcome decided by SQL, and rows streamed in chunks of CHUNK_ROWS (a server-side cursor
on PostgreSQL): a 1M-event window never exists as Python objects all at once.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterator

import pandas as pd
import sqlalchemy as sa
from pandas.api.types import union_categoricals
from sqlalchemy.engine import Engine

from kaizen.events.predictions import FEEDBACK, PREDICTIONS, UtcDateTime, utc

CHUNK_ROWS = 50_000
METADATA = sa.MetaData()
RUNS = sa.Table(
    "monitor_runs",
    METADATA,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", UtcDateTime, nullable=False, index=True),
    sa.Column("since", UtcDateTime, nullable=True),
    sa.Column("until", UtcDateTime, nullable=False),
    sa.Column("by_time", sa.Boolean, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("labelled", sa.Integer, nullable=False),
    sa.Column("matured_labelled", sa.Integer, nullable=False),
    sa.Column("level", sa.String(24), nullable=False),
    sa.Column("exit_code", sa.SmallInteger, nullable=False),
    sa.Column("estimated_auc", sa.Float, nullable=True),
    sa.Column("estimated_auc_se", sa.Float, nullable=True),
    sa.Column("realised_auc", sa.Float, nullable=True),
    sa.Column("report", sa.JSON, nullable=False),
)
SIGNALS = sa.Table(
    "monitor_signals",
    METADATA,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("monitor_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("signal", sa.String(128), primary_key=True),
    sa.Column("grp", sa.String(24), nullable=False),
    sa.Column("level", sa.String(24), nullable=False),
    sa.Column("breach", sa.String(24), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("reference", sa.Float, nullable=True),
    sa.Column("warning", sa.Float, nullable=True),
    sa.Column("critical", sa.Float, nullable=True),
    sa.Column("alerted_at", UtcDateTime, nullable=True),
)


def ensure_tables(engine: Engine) -> None:
    """Create the monitor tables when missing (idempotent)."""
    METADATA.create_all(engine, checkfirst=True)


def _bounds(query, since: dt.datetime | None, until: dt.datetime):
    """created_at in [since, until)."""
    query = query.where(PREDICTIONS.c.created_at < until)
    return query if since is None else query.where(PREDICTIONS.c.created_at >= since)


def window_query(
    numeric: list[str],
    categorical: list[str],
    *,
    since: dt.datetime | None,
    until: dt.datetime,
    last: int | None,
    matured_before: dt.datetime,
):
    """Columns the monitor needs, inputs extracted by the database."""
    inputs = PREDICTIONS.c.inputs
    columns = [
        PREDICTIONS.c.score,
        PREDICTIONS.c.decision,
        PREDICTIONS.c.model_version,
        FEEDBACK.c.outcome,
        (PREDICTIONS.c.created_at <= matured_before).label("matured"),
    ]
    columns += [inputs[name].as_float().label(name) for name in numeric]
    columns += [inputs[name].as_string().label(name) for name in categorical]
    query = sa.select(*columns).select_from(PREDICTIONS.outerjoin(FEEDBACK))
    query = _bounds(query, since, until)
    if last is not None:
        query = query.order_by(PREDICTIONS.c.created_at.desc()).limit(last)
    return query


def _chunks(engine: Engine, query) -> Iterator[pd.DataFrame]:
    """Rows in frames of CHUNK_ROWS (server-side cursor where the driver has one)."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(query)
        names = list(result.keys())
        for rows in result.partitions():
            yield pd.DataFrame.from_records(rows, columns=names)


def read_window(
    engine: Engine,
    numeric: list[str],
    categorical: list[str],
    *,
    since: dt.datetime | None,
    until: dt.datetime,
    last: int | None = None,
    outcome_days: int = 365,
) -> pd.DataFrame:
    """The window as one compact frame: float64 numerics, categorical text, outcome 0/1/NaN,
    `matured` (created at least `outcome_days` before `until`)."""
    query = window_query(
        numeric,
        categorical,
        since=since,
        until=until,
        last=last,
        matured_before=until - dt.timedelta(days=outcome_days),
    )
    text = ["decision", "model_version", *categorical]
    parts = []
    for chunk in _chunks(engine, query):
        for name in ["score", *numeric]:
            chunk[name] = pd.to_numeric(chunk[name], errors="coerce").astype("float64")
        chunk["outcome"] = pd.to_numeric(chunk["outcome"], errors="coerce").astype("float64")
        chunk["matured"] = chunk["matured"].astype(bool)
        for name in text:
            chunk[name] = chunk[name].astype("category")
        parts.append(chunk)
    if not parts:
        empty = {name: pd.Series(dtype="float64") for name in ["score", "outcome", *numeric]}
        empty.update({name: pd.Series(dtype="object") for name in text})
        return pd.DataFrame({**empty, "matured": pd.Series(dtype=bool)})
    frame = pd.concat([part.drop(columns=text) for part in parts], ignore_index=True)
    for name in text:  # categories differ per chunk: union them instead of falling to object
        frame[name] = union_categoricals([part[name] for part in parts], ignore_order=True)
    return frame


def window_bounds(engine: Engine, until: dt.datetime, last: int) -> dt.datetime | None:
    """Creation time of the oldest of the last `last` events before `until` (the --last window)."""
    newest = _bounds(sa.select(PREDICTIONS.c.created_at), None, until)
    newest = newest.order_by(PREDICTIONS.c.created_at.desc()).limit(last).subquery()
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.min(newest.c.created_at))).scalar()
    if value is None:
        return None
    return utc(value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value))


def history(engine: Engine, limit: int) -> list[dict[str, Any]]:
    """The last `limit` runs, newest first, each with its signals {name: {...}}."""
    with engine.connect() as conn:
        runs = conn.execute(sa.select(RUNS).order_by(RUNS.c.run_id.desc()).limit(limit)).mappings()
        out = [dict(run) for run in runs]
        if not out:
            return []
        ids = [run["run_id"] for run in out]
        rows = conn.execute(sa.select(SIGNALS).where(SIGNALS.c.run_id.in_(ids))).mappings()
        by_run: dict[int, dict] = {run_id: {} for run_id in ids}
        for row in rows:
            by_run[row["run_id"]][row["signal"]] = dict(row)
    for run in out:
        run["signals"] = by_run[run["run_id"]]
        run["until"] = run["until"].isoformat()
        run.pop("report", None)
    return out


def save_run(engine: Engine, report: dict, alerted: dict[str, dt.datetime | None]) -> int:
    """Store one run and its signals in one transaction; its run_id."""
    window = report["window"]
    trend = report["charts"]["history"][-1]
    with engine.begin() as conn:
        inserted = conn.execute(
            RUNS.insert().values(
                started_at=dt.datetime.fromisoformat(report["generated_at"]),
                since=(
                    None if window["since"] is None else dt.datetime.fromisoformat(window["since"])
                ),
                until=dt.datetime.fromisoformat(window["until"]),
                by_time=window["by_time"],
                events=window["events"],
                labelled=window["labelled"],
                matured_labelled=window["matured_labelled"],
                level=report["level"],
                exit_code=report["exit_code"],
                estimated_auc=trend.get("estimated_auc"),
                estimated_auc_se=trend.get("estimated_auc_se"),
                realised_auc=trend.get("realised_auc"),
                report=json.loads(json.dumps(report, default=str)),
            )
        )
        run_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(
            SIGNALS.insert(),
            [
                {
                    "run_id": run_id,
                    "signal": item["name"],
                    "grp": item["group"],
                    "level": item["level"],
                    "breach": item["breach"],
                    "value": item.get("value"),
                    "reference": item.get("reference"),
                    "warning": item.get("warning"),
                    "critical": item.get("critical"),
                    "alerted_at": alerted.get(item["name"]),
                }
                for item in report["signals"]
            ],
        )
    return int(run_id)
