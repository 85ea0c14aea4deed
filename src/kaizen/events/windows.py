"""The monitor's reads: a window of events as one typed frame, read column-wise.

One query selects the window (created in [since, until), or the last N before until) and gives
per event its score and one line of JSON the database writes by concatenation: the decision,
the model version, the outcome (joined from feedback), whether it has matured
(`predictions.matured`: the rule is in SQL) and the stored inputs document as it is. Rows arrive
in chunks of CHUNK_ROWS (a server-side cursor on PostgreSQL), so that a 1M-event window never
exists as Python objects all at once; a chunk's lines are decoded at once by Arrow's JSON reader,
straight into float64, integer and string columns. Two Python objects per event, no value
parsed twice: extracting each input in SQL instead (json_extract per field) parsed every
document once per field and made a Python object per value (1.3 s for 100,000 events on SQLite,
against 0.35 s of CPU now: bench/README.md). The score stays a column of its own: SQLite's text
form of a float does not always give the same float back.

A value of another type than its column (a numeric field hashed as PII, say) makes Arrow refuse
the chunk, which is then decoded line by line (numbers and numeric text as float64, anything else
NaN; categories as text). Categories are sorted.

Without inputs (monitor.mode sketch: the inputs come from the daily profiles), the query selects
typed columns instead (score, outcome, matured, decision, model_version) in the same order, and
no line is written or decoded.

A stored value nothing can read never fails the window (issue 19: a lone surrogate, written by
an older server or another writer, failed every window that held it, on SQLite and PostgreSQL):
an event whose line is not JSON is skipped, a number that is not finite is read as missing, and
both are counted in the frame's `attrs["unreadable"]` and logged (counts, never values).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
from collections.abc import Iterator, Sequence
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
from sqlalchemy.sql import ColumnElement, Select

from kaizen.events.predictions import matured
from kaizen.events.schema import FEEDBACK, PREDICTIONS, utc

CHUNK_ROWS = 50_000
KEPT = "_kept"  # a chunk's mask of the events it could read, when it could not read them all
log = logging.getLogger(__name__)
TEXT = ("decision", "model_version")  # stored text the monitor reads as categories


def _bounds(query: Select[Any], since: dt.datetime | None, until: dt.datetime) -> Select[Any]:
    """created_at in [since, until)."""
    query = query.where(PREDICTIONS.c.created_at < until)
    return query if since is None else query.where(PREDICTIONS.c.created_at >= since)


def _line(
    dialect: str, until: dt.datetime, outcome_days: int, inputs: bool = True
) -> ColumnElement[Any]:
    """An event's JSON line, written by the database: {"d": decision, "v": model_version,
    "o": outcome or null, "m": 0 or 1, "i": the inputs document, or {} without `inputs`}
    (SQLite: as bytes)."""
    text = sa.Text()
    quote = sa.func.json_quote if dialect == "sqlite" else sa.func.to_json
    parts: list[ColumnElement[Any]] = [
        sa.literal('{"d":', text),
        sa.cast(quote(PREDICTIONS.c.decision), text),
        sa.literal(',"v":', text),
        sa.cast(quote(PREDICTIONS.c.model_version), text),
        sa.literal(',"o":', text),
        sa.func.coalesce(sa.cast(FEEDBACK.c.outcome, text), sa.literal("null", text)),
        sa.literal(',"m":', text),
        sa.cast(sa.cast(matured(until, outcome_days), sa.Integer), text),
        sa.literal(',"i":', text),
        sa.cast(PREDICTIONS.c.inputs, text) if inputs else sa.literal("{}", text),
        sa.literal("}", text),
    ]
    line = parts[0]
    for part in parts[1:]:
        line = line.concat(part)  # a || b: no NULL among the parts
    return sa.cast(line, sa.LargeBinary) if dialect == "sqlite" else line


def window_query(
    dialect: str,
    *,
    since: dt.datetime | None,
    until: dt.datetime,
    last: int | None,
    outcome_days: int,
    inputs: bool = True,
) -> Select[Any]:
    """score and the event's JSON line."""
    line = _line(dialect, until, outcome_days, inputs)
    return _windowed(sa.select(PREDICTIONS.c.score, line), since, until, last)


def columns_query(
    *, since: dt.datetime | None, until: dt.datetime, last: int | None, outcome_days: int
) -> Select[Any]:
    """score, outcome (NULL without feedback), matured (0 or 1), decision, model_version: the
    window without its inputs, each value in a typed column (no JSON to write or decode)."""
    matured_ = sa.cast(matured(until, outcome_days), sa.Integer)
    query = sa.select(
        PREDICTIONS.c.score,
        FEEDBACK.c.outcome,
        matured_,
        PREDICTIONS.c.decision,
        PREDICTIONS.c.model_version,
    )
    return _windowed(query, since, until, last)


def _windowed(
    query: Select[Any], since: dt.datetime | None, until: dt.datetime, last: int | None
) -> Select[Any]:
    """The events (joined with their feedback) of the window, in the order both reads share."""
    query = _bounds(query.select_from(PREDICTIONS.outerjoin(FEEDBACK)), since, until)
    if last is not None:
        query = query.order_by(PREDICTIONS.c.created_at.desc()).limit(last)
    return query


def _schema(numeric: Sequence[str], categorical: Sequence[str]) -> pa.Schema:
    """What Arrow's JSON reader decodes each line into."""
    inputs = [(name, pa.float64()) for name in numeric] + [
        (name, pa.string()) for name in categorical
    ]
    return pa.schema(
        [("d", pa.string()), ("v", pa.string()), ("o", pa.float64()), ("m", pa.int8())]
        + [("i", pa.struct(inputs))]
    )


def _categorical(values: pa.Array | pa.ChunkedArray) -> pd.Categorical:
    """Arrow strings -> a pandas Categorical (dictionary-encoded by Arrow, no Python str)."""
    encoded: pd.Series = values.dictionary_encode().to_pandas()
    return pd.Categorical(encoded)


def _decode(
    lines: list[bytes], numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, Any]:
    """One chunk's lines as columns: Arrow's JSON reader, or line by line when a value does not
    fit its column."""
    try:
        table = pa_json.read_json(
            BytesIO(b"\n".join(lines)),
            parse_options=pa_json.ParseOptions(
                explicit_schema=_schema(numeric, categorical), unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowInvalid:
        table = None
    if table is None or table.num_rows != len(lines):  # a line break inside a stored document
        return _decode_each(lines, numeric, categorical)
    inputs = table.column("i").combine_chunks()
    out: dict[str, Any] = {
        "outcome": table.column("o").to_numpy(),
        "matured": table.column("m").to_numpy().astype(bool),
        "decision": _categorical(table.column("d")),
        "model_version": _categorical(table.column("v")),
    }
    out.update({name: inputs.field(name).to_numpy(zero_copy_only=False) for name in numeric})
    out.update({name: _categorical(inputs.field(name)) for name in categorical})
    return out


def _decode_each(
    lines: list[bytes], numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, Any]:
    """The slow path, each line parsed on its own: numbers, and text that is a number, as
    float64, anything else NaN (the SQL extraction cast text to 0.0 on SQLite and failed on
    PostgreSQL); categories as text (a number as its JSON text), JSON null missing."""
    parsed = [_event(line) for line in lines]
    events = [e for e in parsed if e is not None]
    documents = [e["i"] if isinstance(e["i"], dict) else {} for e in events]
    out: dict[str, Any] = {
        "outcome": np.array([e["o"] for e in events], dtype="float64"),
        "matured": np.array([e["m"] for e in events], dtype=bool),
        "decision": pd.Categorical([e["d"] for e in events]),
        "model_version": pd.Categorical([e["v"] for e in events]),
    }
    if len(events) < len(lines):
        out[KEPT] = np.array([e is not None for e in parsed], dtype=bool)
    for name in numeric:
        values = pd.Series([d.get(name) for d in documents], dtype=object)
        out[name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    for name in categorical:
        labels = pd.Series([_label(d.get(name)) for d in documents], dtype=object)
        out[name] = pd.Categorical(labels.astype("str"))
    return out


def _event(line: bytes) -> dict[str, Any] | None:
    """One event's line, or None when it cannot be read (not JSON, not the line the query
    writes, or text no JSON encoder takes back: a lone surrogate). orjson refuses a number
    beyond a double; the standard library reads it as infinity (then missing)."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            event = json.loads(line)
            orjson.dumps(event)  # what the reports will encode
        except (ValueError, TypeError):  # orjson.JSONEncodeError is a TypeError
            return None
    if not isinstance(event, dict) or not {"d", "v", "o", "m", "i"} <= event.keys():
        return None
    if not isinstance(event["o"], (int, float, type(None))):
        return None
    return event


def _label(value: Any) -> str | None:
    """A categorical value as text: strings as they are, anything else as its JSON text."""
    return value if value is None or isinstance(value, str) else orjson.dumps(value).decode()


def _rows(engine: Engine, query: Select[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """The query's rows in lists of CHUNK_ROWS, straight from the driver's cursor (a server-side
    one on PostgreSQL): SQLAlchemy compiles the query and converts its parameters, then stays out
    of the way (its row objects cost as much as the decoding)."""
    dialect = engine.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = {}
    for name, value in compiled.construct_params().items():
        convert = compiled.binds[name].type.bind_processor(dialect)
        values[name] = value if convert is None else convert(value)
    positional = compiled.positiontup is not None
    params = tuple(values[name] for name in compiled.positiontup or ()) if positional else values
    connection = engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        server_side = {"name": "kaizen_window"} if dialect.name == "postgresql" else {}
        cursor = driver.cursor(**server_side)
        try:
            cursor.execute(compiled.string, params)
            while rows := cursor.fetchmany(CHUNK_ROWS):
                yield rows
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool, rolled back


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile. The rows are tuples of a float and bytes, which
    make no cycles; but each 700 of them start a collection pass, and the passes over the
    process's other objects (a loaded model and pandas: 160,000) took a quarter of the read."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(
    engine: Engine, query: Select[Any], numeric: Sequence[str], categorical: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """The window in chunks of CHUNK_ROWS events, each as a dict of columns."""
    for rows in _rows(engine, query):
        scores, lines = zip(*rows)
        if not isinstance(lines[0], bytes):  # PostgreSQL gives text
            lines = tuple(line.encode() for line in lines)
        chunk = _decode(list(lines), numeric, categorical)
        score = np.array(scores, dtype="float64")
        kept = chunk.pop(KEPT, None)
        chunk["score"] = score if kept is None else score[kept]
        chunk["unreadable_events"] = 0 if kept is None else int(np.count_nonzero(~kept))
        chunk["unreadable_values"] = _missing_when_not_finite(chunk, numeric)
        yield chunk


def _count(engine: Engine, since: dt.datetime | None, until: dt.datetime, last: int | None) -> int:
    """The window's events (at most `last`): the typed read's array sizes."""
    query = _bounds(sa.select(sa.func.count()).select_from(PREDICTIONS), since, until)
    with engine.connect() as conn:
        count = int(conn.execute(query).scalar() or 0)
    return count if last is None else min(count, last)


def _columns(engine: Engine, query: Select[Any], count: int) -> dict[str, Any]:
    """The typed query's rows written into arrays of `count` events (grown if events were
    stored since the count, cut if fewer came), the text as codes (first seen first): a
    chunk's Python objects die with it, so that nothing they leave fragments the heap."""
    out: dict[str, Any] = {
        "score": np.empty(count, "float64"),
        "outcome": np.empty(count, "float64"),
        "matured": np.empty(count, bool),
        **{name: np.empty(count, np.int32) for name in TEXT},
    }
    labels: dict[str, dict[str, int]] = {name: {} for name in TEXT}
    end = 0
    for rows in _rows(engine, query):
        start, end = end, end + len(rows)
        if end > count:
            count = max(end, 2 * count)
            out = {name: np.resize(values, count) for name, values in out.items()}
        columns = list(zip(*rows))
        for name, values in zip(["score", "outcome", "matured"], columns):
            out[name][start:end] = values  # outcome None -> NaN
        for name, values in zip(TEXT, columns[3:]):
            codes, found = pd.factorize(np.array(values, dtype=object))
            known = [labels[name].setdefault(label, len(labels[name])) for label in found]
            out[name][start:end] = np.array([*known, -1], np.int32)[codes]  # -1: missing
    return {**{name: values[:end] for name, values in out.items()}, "labels": labels}


def _categories(codes: np.ndarray, labels: dict[str, int]) -> pd.Categorical:
    """Codes of `labels` (first seen first) as a Categorical with sorted categories."""
    order = sorted(labels)
    recode = np.full(len(labels) + 1, -1, np.int32)  # the last: missing stays missing
    recode[[labels[label] for label in order]] = np.arange(len(order))
    return pd.Categorical.from_codes(recode[codes], categories=pd.Index(order, dtype="str"))


def _typed_frame(engine: Engine, query: Select[Any], count: int) -> pd.DataFrame | None:
    """The window without inputs, from the typed columns (None when it has no event)."""
    with _collector_paused():
        read = _columns(engine, query, count)
    if not read["score"].size:
        return None
    labels = read.pop("labels")
    frame = {name: read[name] for name in ["score", "outcome", "matured"]}
    frame.update({name: _categories(read.pop(name), labels[name]) for name in TEXT})
    result = pd.DataFrame(frame, copy=False)
    result.attrs["unreadable"] = {"events": 0, "values": 0}
    return result


def _missing_when_not_finite(chunk: dict[str, Any], numeric: Sequence[str]) -> int:
    """Infinite numbers (1e400 stored as text, say) set to NaN, in place; how many."""
    count = 0
    for name in numeric:
        values = chunk[name]
        infinite = np.isinf(values)
        if infinite.any():
            count += int(np.count_nonzero(infinite))
            chunk[name] = np.where(infinite, np.nan, values)
    return count


def _sorted(parts: list[pd.Categorical]) -> pd.Categorical:
    """One Categorical from the chunks' (whose categories differ), categories sorted."""
    joined = union_categoricals(parts, ignore_order=True)
    try:
        order = sorted(joined.categories)
    except TypeError:  # not comparable: as found
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
    numerics, then decision, model_version and the categorical inputs as categories. With no
    input listed (sketch mode's per-event part), the typed columns alone are read: no inputs
    document, no JSON line: a million events on SQLite in 1.8 s of CPU and 56 MB more peak
    memory (26 bytes an event, the rest per chunk), against 2.8 s and 138 MB through the
    lines; the frame itself holds 19 bytes an event."""
    text = [*TEXT, *categorical]
    parts: list[dict[str, Any]] = []
    if not (numeric or categorical):
        query = columns_query(since=since, until=until, last=last, outcome_days=outcome_days)
        typed = _typed_frame(engine, query, _count(engine, since, until, last))
        if typed is not None:
            return typed
    else:
        query = window_query(
            engine.dialect.name, since=since, until=until, last=last, outcome_days=outcome_days
        )
        with _collector_paused():
            parts = list(_chunks(engine, query, numeric, categorical))
    if not parts:
        empty = {name: pd.Series(dtype="float64") for name in ["score", "outcome", *numeric]}
        empty.update({name: pd.Series(dtype="object") for name in text})
        return pd.DataFrame({**empty, "matured": pd.Series(dtype=bool)})
    frame: dict[str, Any] = {
        name: np.concatenate([part[name] for part in parts])
        for name in ["score", "outcome", "matured", *numeric]
    }
    frame.update({name: _sorted([part[name] for part in parts]) for name in text})
    result = pd.DataFrame(frame, copy=False)  # the joined arrays as they are: no block copy
    unreadable = {
        "events": sum(part["unreadable_events"] for part in parts),
        "values": sum(part["unreadable_values"] for part in parts),
    }
    result.attrs["unreadable"] = unreadable
    if unreadable["events"] or unreadable["values"]:
        log.warning(
            "window: %d stored events skipped (not readable), %d stored numbers read as "
            "missing (not finite)",
            unreadable["events"],
            unreadable["values"],
        )
    return result


def window_bounds(engine: Engine, until: dt.datetime, last: int) -> dt.datetime | None:
    """Creation time of the oldest of the last `last` events before `until` (the --last window)."""
    newest = _bounds(sa.select(PREDICTIONS.c.created_at), None, until)
    subquery = newest.order_by(PREDICTIONS.c.created_at.desc()).limit(last).subquery()
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.min(subquery.c.created_at))).scalar()
    if value is None:
        return None
    return utc(value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value))
