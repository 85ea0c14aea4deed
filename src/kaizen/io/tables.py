"""Reading tabular files: a raw CSV's bytes to a frame of strings indexed by data row (pyarrow's
multi-threaded reader, pandas' where they could differ), a data snapshot to register, evaluate's
score and calibration tables; one-line errors naming the file."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from kaizen import KaizenError
from kaizen.io import files
from kaizen.pipeline.data import ROW

PARQUET = (".parquet", ".pq")  # a snapshot with one of these suffixes is Parquet, else CSV

# pandas' default `na_values`: a cell holding one of these (after skipinitialspace) is missing.
NA_VALUES = sorted(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
    | {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default `str` dtype
BLOCK_BYTES = 8 << 20  # bytes per block of `stream_raw`: about 100,000 rows of applications
HEAD_BYTES = 1 << 16  # the bytes `stream_raw` reads first, for the header


def read_raw(path: str | Path, separator: str = ",") -> pd.DataFrame:
    """Read a CSV as strings, checking it is a non-empty table with unique column names."""
    path = Path(path)
    if not path.is_file():
        raise KaizenError(f"{path}: file not found")
    return parse_raw(path.read_bytes(), path, separator)


def parse_raw(raw: bytes, path: str | Path, separator: str = ",") -> pd.DataFrame:
    """`read_raw` on a CSV's bytes; errors name `path`."""
    if not raw or raw.isspace():
        raise KaizenError(f"{path}: file is empty")
    if b"\x00" in raw[:8192]:
        raise KaizenError(f"{path}: not a CSV file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
        data = raw.removeprefix(codecs.BOM_UTF8)  # the same text as UTF-8, without a copy
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        data = text.encode("utf-8")
    header = next(csv.reader(_lines(text), delimiter=separator), [])
    header = [name.strip() for name in header]
    if len(header) < 2:
        raise KaizenError(
            f"{path}: not a CSV with separator {separator!r} (header has {len(header)} column)"
        )
    seen: set[str] = set()
    for name in header:
        if not name:
            raise KaizenError(f"{path}: empty column name in header")
        if name in seen:
            raise KaizenError(f"{path}: duplicate column name {name!r}")
        seen.add(name)
    frame = _read_arrow(data, separator, len(header))
    if frame is None:
        _check_widths(text, separator, len(header), path)
        frame = _read_pandas(text, separator, path)
    frame.columns = header
    if frame.empty:
        raise KaizenError(f"{path}: no data rows below the header")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name=ROW)
    return frame


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, each with its line break, one at a time (csv.reader reads only the
    header's; io.StringIO would first copy the whole text)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def _check_widths(text: str, separator: str, width: int, path: str | Path) -> None:
    """A data row with more or fewer fields than the header is an error naming the row: pandas
    would fill a short row with missing values (scored silently, imputed) and word a long one by
    its file line. Blank lines are skipped, as pandas does, and not counted as data rows."""
    rows = csv.reader(_lines(text), delimiter=separator)
    next(rows, None)
    number = 0
    for fields in rows:
        if not fields or fields == [""]:
            continue
        number += 1
        if len(fields) != width:
            raise KaizenError(
                f"{path}: data row {number} has {len(fields)} fields, the header {width} "
                f"(separator {separator!r})"
            )


def _read_pandas(text: str, separator: str, path: str | Path) -> pd.DataFrame:
    """Every cell as text (pandas' missing markers as NaN), or a one-line error naming `path`."""
    try:
        return pd.read_csv(
            io.StringIO(text), sep=separator, dtype=str, skipinitialspace=True, engine="c"
        )
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise KaizenError(f"{path}: not a valid CSV ({detail})") from None


def _read_arrow(data: bytes, separator: str, width: int) -> pd.DataFrame | None:
    """The frame `pd.read_csv(dtype=str, skipinitialspace=True)` reads, parsed by pyarrow's
    multi-threaded reader (about 5x faster at 1M rows); None whenever that reading could differ
    (a quoted header, a ragged row, any parse error), and pandas then reads or reports it."""
    if len(separator) != 1 or b'"' in data[: data.find(b"\n")]:
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(pa.BufferReader(data), **_arrow_options(names, separator))
    except pa.ArrowInvalid:
        return None
    columns = {name: _skip_initial_space(values) for name, values in zip(names, table.columns)}
    return pa.table(columns).to_pandas(types_mapper={pa.large_string(): TEXT}.get)


def _arrow_options(names: list[str], separator: str, block_bytes: int | None = None) -> dict:
    """pyarrow's CSV options that read every cell as text with pandas' missing markers."""
    read = pcsv.ReadOptions(column_names=names, skip_rows=1)
    if block_bytes is not None:
        read.block_size = block_bytes
    return {
        "read_options": read,
        "parse_options": pcsv.ParseOptions(delimiter=separator, newlines_in_values=True),
        "convert_options": pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            null_values=NA_VALUES,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }


def _skip_initial_space(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """pandas' `skipinitialspace`: leading spaces dropped, then the missing markers again."""
    if pc.any(pc.starts_with(values, " ")).as_py():
        values = pc.utf8_ltrim(values, " ")
        values = pc.if_else(pc.is_in(values, pa.array(NA_VALUES)), None, values)
    return values


def stream_raw(
    path: str | Path, separator: str = ",", rows: int = 100_000, block_bytes: int = BLOCK_BYTES
) -> Iterator[pa.Table] | None:
    """The rows `read_raw` reads, as tables of text columns named by the header, `rows` rows
    each (the last one fewer), parsed block by block (about `block_bytes` each) by pyarrow's
    streaming reader: memory bounded by the block size, and each table can be scored while the
    next is parsed. None where `read_raw` might read the file otherwise (not UTF-8 at the start,
    a quoted header, a header it would refuse...); a parse error (a ragged row, bytes that are
    not UTF-8) raises pa.ArrowInvalid while iterating. Either way the caller reads the file whole
    with `read_raw`, which reads it or names the problem."""
    path = Path(path)
    if len(separator) != 1 or not path.is_file():
        return None
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    first = head[: head.find(b"\n")]
    if b"\n" not in head or b"\x00" in head[:8192] or b'"' in first or not first.strip():
        return None
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    header = [name.strip() for name in next(csv.reader([line], delimiter=separator), [])]
    if len(header) < 2 or "" in header or len(set(header)) < len(header):
        return None
    return _tables(_batches(path, separator, header, block_bytes), rows)


def _batches(
    path: Path, separator: str, header: list[str], block_bytes: int
) -> Iterator[pa.RecordBatch]:
    """The non-empty batches of `stream_raw`, as pyarrow's blocks cut them."""
    names = [f"c{i}" for i in range(len(header))]
    with pcsv.open_csv(str(path), **_arrow_options(names, separator, block_bytes)) as reader:
        for batch in reader:
            if batch.num_rows:
                columns = [_skip_initial_space(values) for values in batch.columns]
                yield pa.RecordBatch.from_arrays(columns, names=header)


def _tables(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """The rows of `batches` cut into tables of `rows` rows (no copy), whatever the blocks: a
    score's last bits can depend on the row's place in its batch (vectorised loops), so the
    same rows must be cut as the whole-file path cuts them."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(held)
            yield table.slice(0, rows)
            held = table.slice(rows).to_batches()
            count -= rows
    if count:
        yield pa.Table.from_batches(held)


def read_snapshot(path: Path, separator: str) -> tuple[bytes, str]:
    """The bytes to store and their separator: a CSV as it is, a Parquet file as CSV."""
    if not path.is_file():
        raise KaizenError(f"{path}: file not found")
    if path.suffix.lower() not in PARQUET:
        return path.read_bytes(), separator
    frame = files.read_parquet(path)
    return frame.to_csv(index=False).encode("utf-8"), ","


def parse_scores(raw: bytes | None, source: str) -> pd.DataFrame | None:
    """The `row,y,score` CSV written by evaluate, or None when missing."""
    if raw is None:
        return None
    frame = pd.read_csv(io.BytesIO(raw))
    missing = {"row", "y", "score"} - set(frame.columns)
    if missing:
        raise KaizenError(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    return frame


def parse_table(raw: bytes | None) -> pd.DataFrame | None:
    """A CSV table (the calibration buckets), or None when missing."""
    return None if raw is None else pd.read_csv(io.BytesIO(raw))


def full_scores(raw: bytes | None, source: str) -> dict[str, pd.DataFrame]:
    """Every row's scores by part from evaluate's DVC-cached Parquet (empty when missing)."""
    if raw is None:
        return {}
    try:
        frame = pd.read_parquet(io.BytesIO(raw))
    except (OSError, ValueError) as exc:
        raise KaizenError(f"{source}: not a readable Parquet file ({exc})") from None
    missing = {"part", "row", "y", "score"} - set(frame.columns)
    if missing:
        raise KaizenError(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    return {
        str(part): rows[["row", "y", "score"]].reset_index(drop=True)
        for part, rows in frame.groupby("part", observed=True)
    }
