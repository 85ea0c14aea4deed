"""The monitor's reads: a window of events as one typed frame, read column-wise.

One query selects the window (created in [since, until), or the last N before until), each
event's outcome (joined from feedback), whether it has matured (`predictions.matured`, in SQL)
and its inputs as JSON text. Rows arrive in chunks of CHUNK_ROWS (a server-side cursor on
PostgreSQL), so that a 1M-event window never exists as Python objects all at once; each chunk
becomes columns at once: the scalars through numpy and Arrow, the inputs decoded in bulk by
Arrow's JSON reader straight into float64 and string columns. Extracting them in SQL instead
(json_extract per field) parsed every document once per field and made a Python object per
value: 1.3 s for 100,000 events, against about 0.3 s now (bench/README.md).

A value of another type than its column (a numeric field hashed as PII, say) makes Arrow refuse
the chunk; that chunk is then decoded value by value with the rules of the SQL extraction it
replaces (numbers coerced, anything else NaN). Categories are sorted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import sqlalchemy as sa
from pandas.api.types import union_categoricals
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from kaizen.events.predictions import matured
from kaizen.events.schema import FEEDBACK, PREDICTIONS, utc

CHUNK_ROWS = 50_000
TEXT = ("decision", "model_version")  # stored text columns the monitor reads as categories


@dataclass(frozen=True)
class Columns:
    """The inputs the monitor reads: float64 ones and categorical ones."""

    numeric: Sequence[str]
    categorical: Sequence[str]

    def arrow_schema(self) -> pa.Schema:
        """What Arrow's JSON reader decodes each input document into."""
        return pa.schema(
            [(name, pa.float64()) for name in self.numeric]
            + [(name, pa.string()) for name in self.categorical]
        )


def _bounds(query: Select[Any], since: dt.datetime | None, until: dt.datetime) -> Select[Any]:
    """created_at in [since, until)."""
    query = query.where(PREDICTIONS.c.created_at < until)
    return query if since is None else query.where(PREDICTIONS.c.created_at >= since)


def window_query(
    dialect: str,
    *,
    since: dt.datetime | None,
    until: dt.datetime,
    last: int | None,
    outcome_days: int,
) -> Select[Any]:
    """score, decision, model_version, outcome, matured and the inputs as JSON text (SQLite:
    its bytes), without any per-row conversion on the way (`type_coerce` to no type)."""
    raw = sa.types.NullType()
    inputs = sa.cast(PREDICTIONS.c.inputs, sa.LargeBinary if dialect == "sqlite" else sa.Text)
    columns = [
        PREDICTIONS.c.score,
        PREDICTIONS.c.decision,
        PREDICTIONS.c.model_version,
        FEEDBACK.c.outcome,
        matured(until, outcome_days),
        inputs,
    ]
    query = sa.select(*[sa.type_coerce(column, raw) for column in columns])
    query = _bounds(query.select_from(PREDICTIONS.outerjoin(FEEDBACK)), since, until)
    if last is not None:
        query = query.order_by(PREDICTIONS.c.created_at.desc()).limit(last)
    return query


def _categorical(values: pa.Array | pa.ChunkedArray) -> pd.Categorical:
    """Arrow strings -> a pandas Categorical (dictionary-encoded by Arrow, no Python str)."""
    encoded: pd.Series = values.dictionary_encode().to_pandas()
    return pd.Categorical(encoded)


def _decode(documents: list[Any], columns: Columns) -> dict[str, Any]:
    """The inputs of one chunk as columns: Arrow's JSON reader, or value by value when a value
    does not fit its column."""
    lines = [d if isinstance(d, bytes) else d.encode() for d in documents]
    try:
        table = pa_json.read_json(
            BytesIO(b"\n".join(lines)),
            parse_options=pa_json.ParseOptions(
                explicit_schema=columns.arrow_schema(), unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowInvalid:
        table = None
    if table is None or table.num_rows != len(lines):
        return _decode_each(lines, columns)
    out: dict[str, Any] = {name: table.column(name).to_numpy() for name in columns.numeric}
    out.update({name: _categorical(table.column(name)) for name in columns.categorical})
    return out


def _decode_each(lines: list[bytes], columns: Columns) -> dict[str, Any]:
    """The slow path, each document parsed on its own: numbers, and text that is a number, as
    float64, anything else NaN (the SQL reader cast text to 0.0 on SQLite and failed on
    PostgreSQL); categories as text (a number as its JSON text), JSON null missing."""
    parsed = [orjson.loads(line) for line in lines]
    documents = [d if isinstance(d, dict) else {} for d in parsed]
    out: dict[str, Any] = {}
    for name in columns.numeric:
        values = pd.Series([d.get(name) for d in documents], dtype=object)
        out[name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    for name in columns.categorical:
        labels = [_label(d.get(name)) for d in documents]
        out[name] = pd.Categorical(pd.Series(labels, dtype=object).astype("str"))
    return out


def _label(value: Any) -> str | None:
    """A categorical value as text: strings as they are, anything else as its JSON text."""
    return value if value is None or isinstance(value, str) else orjson.dumps(value).decode()


def _chunks(engine: Engine, query: Select[Any], columns: Columns) -> Iterator[dict[str, Any]]:
    """The window in chunks of CHUNK_ROWS rows, each as a dict of columns."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(query)
        for rows in result.partitions():
            score, decision, version, outcome, ripe, documents = zip(*rows)
            chunk: dict[str, Any] = {
                "score": np.array(score, dtype="float64"),
                "outcome": np.array(outcome, dtype="float64"),
                "matured": np.array(ripe, dtype=bool),
                "decision": _categorical(pa.array(decision, pa.string())),
                "model_version": _categorical(pa.array(version, pa.string())),
            }
            chunk.update(_decode(list(documents), columns))
            yield chunk


def _sorted(parts: list[pd.Categorical]) -> pd.Categorical:
    """One Categorical from the chunks' (whose categories differ), categories sorted."""
    joined = union_categoricals(parts, ignore_order=True)
    try:
        order = sorted(joined.categories)
    except TypeError:  # mixed types (a number among strings): as found
        return joined
    return joined.reorder_categories(order)


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
    """The window as one compact frame: score, outcome (0/1/NaN), `matured`, the float64
    numerics, then decision, model_version and the categorical inputs as categories."""
    columns = Columns(numeric, categorical)
    query = window_query(
        engine.dialect.name, since=since, until=until, last=last, outcome_days=outcome_days
    )
    text = [*TEXT, *categorical]
    parts = list(_chunks(engine, query, columns))
    if not parts:
        empty = {name: pd.Series(dtype="float64") for name in ["score", "outcome", *numeric]}
        empty.update({name: pd.Series(dtype="object") for name in text})
        return pd.DataFrame({**empty, "matured": pd.Series(dtype=bool)})
    frame: dict[str, Any] = {
        name: np.concatenate([part[name] for part in parts])
        for name in ["score", "outcome", "matured", *numeric]
    }
    frame.update({name: _sorted([part[name] for part in parts]) for name in text})
    return pd.DataFrame(frame)


def window_bounds(engine: Engine, until: dt.datetime, last: int) -> dt.datetime | None:
    """Creation time of the oldest of the last `last` events before `until` (the --last window)."""
    newest = _bounds(sa.select(PREDICTIONS.c.created_at), None, until)
    subquery = newest.order_by(PREDICTIONS.c.created_at.desc()).limit(last).subquery()
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.min(subquery.c.created_at))).scalar()
    if value is None:
        return None
    return utc(value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value))
