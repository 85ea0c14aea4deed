"""The monitor's window reader as it was before the column-wise one (frozen here): the
reference that `kaizen.events.windows.read_window` must give the same frame as."""

from __future__ import annotations

import datetime as dt
from typing import Iterator

import pandas as pd
import sqlalchemy as sa
from pandas.api.types import union_categoricals
from sqlalchemy.engine import Engine

from kaizen.events.schema import FEEDBACK, PREDICTIONS

CHUNK_ROWS = 50_000


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
