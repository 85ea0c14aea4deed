"""Arrow record batches in and out of batch scoring, with memory bounded by the batch size
whatever the input size: a Parquet file, folder (a partitioned dataset, hive-style keys become
columns) or glob read by pyarrow's dataset scanner; any input DuckDB reads (Parquet, CSV, a SQL
query) streamed under DuckDB's own memory limit; scored frames written as one CSV file, one
Parquet file or a folder of Parquet parts, each atomically (a failure leaves no partial output).
Errors are one line naming the input or output."""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import re
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from kaizen import KaizenError
from kaizen.io import files
from kaizen.io.tables import NA_VALUES, PARQUET, TEXT

WILDCARDS = re.compile(r"[*?\[]")
SQL = re.compile(r"^\s*(select|with|from|values|table)\b", re.IGNORECASE)
PART_ROWS = 1_000_000  # rows per Parquet part of a folder output


def is_query(source: str) -> bool:
    """True when `source` is a SQL query (it starts with SELECT, WITH, FROM, VALUES, TABLE)."""
    return bool(SQL.match(source))


def is_parquet(source: str) -> bool:
    """A Parquet input: a `.parquet`/`.pq` file, a folder, or a glob pattern."""
    path = Path(source)
    return path.suffix.lower() in PARQUET or bool(WILDCARDS.search(source)) or path.is_dir()


def parquet_files(source: str) -> list[str]:
    """The Parquet files of a file, folder (recursively) or glob, sorted; one-line errors."""
    if WILDCARDS.search(source):
        found = sorted(name for name in glob.glob(source, recursive=True) if Path(name).is_file())
        if not found:
            raise KaizenError(f"{source}: no file matches")
        return found
    path = Path(source)
    if path.is_dir():
        found = sorted(
            str(name)
            for name in path.rglob("*")
            if name.suffix.lower() in PARQUET and not name.name.startswith((".", "_"))
        )
        if not found:
            raise KaizenError(f"{source}: folder holds no .parquet file")
        return found
    if not path.is_file():
        raise KaizenError(f"{source}: file not found")
    return [source]


def parquet_batches(source: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows of a Parquet file, folder or glob, `batch_rows` at a time (at most one batch
    read ahead); a folder's hive-style partition keys (`month=2024-01/`) become columns."""
    names = parquet_files(source)
    root = source if Path(source).is_dir() else None
    try:
        dataset = ds.dataset(names, format="parquet", partitioning="hive", partition_base_dir=root)
        scanner = dataset.scanner(batch_size=batch_rows, batch_readahead=1, fragment_readahead=1)
        for batch in scanner.to_batches():
            if batch.num_rows:
                yield batch
    except (pa.ArrowException, OSError) as exc:
        raise KaizenError(f"{source}: not a readable Parquet dataset ({_detail(exc)})") from None


def duckdb_batches(
    source: str, batch_rows: int, *, memory_limit: str, threads: int, separator: str = ","
) -> Iterator[pa.RecordBatch]:
    """The rows DuckDB reads from `source` (a SQL query, a Parquet file / folder / glob, or a
    CSV read as text with pandas' missing markers), `batch_rows` at a time, DuckDB's buffers
    capped at `memory_limit` with `threads` threads; a CSV's columns are split by `separator`."""
    # pylint: disable-next=import-outside-toplevel  # loaded by `--engine duckdb` only
    import duckdb

    parameters: list[str | list[str]] = []
    if is_query(source):
        query = source
    elif is_parquet(source):
        query = "SELECT * FROM read_parquet(?, hive_partitioning = true, union_by_name = true)"
        parameters = [parquet_files(source)]
    else:
        if not Path(source).is_file():
            raise KaizenError(f"{source}: file not found")
        query = (
            "SELECT * FROM read_csv(?, header = true, all_varchar = true, nullstr = ?, delim = ?)"
        )
        parameters = [source, NA_VALUES, separator]
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        "threads": threads,
        "preserve_insertion_order": True,
    }
    try:
        with duckdb.connect(config=config) as connection:
            connection.execute("SET enable_progress_bar = false")  # no bar on stderr
            reader = connection.execute(query, parameters).to_arrow_reader(batch_rows)
            for batch in reader:
                if batch.num_rows:
                    yield batch
    except duckdb.Error as exc:
        raise KaizenError(f"{_short(source)}: DuckDB cannot read it ({_detail(exc)})") from None


def to_frame(batch: pa.RecordBatch | pa.Table, first_row: int) -> pd.DataFrame:
    """A batch (or table) as pandas (text as pandas' `str` dtype), indexed by 1-based row number."""
    frame = batch.to_pandas(types_mapper={pa.string(): TEXT, pa.large_string(): TEXT}.get)
    frame.index = pd.RangeIndex(first_row, first_row + len(frame), name="row")
    return frame


def output_kind(output: str) -> str:
    """`csv`, `parquet` (one file) or `folder` (Parquet parts): a `.parquet`/`.pq` name is a
    file, a name ending in `/` or an existing folder is a folder, anything else is CSV."""
    if output.endswith(("/", "\\")) or Path(output).is_dir():
        return "folder"
    return "parquet" if Path(output).suffix.lower() in PARQUET else "csv"


@contextlib.contextmanager
def frame_sink(output: str, requote: bool = True) -> Iterator[_Sink]:
    """A writer of successive frames (same columns) to `output`, in the format its name says
    (`output_kind`); the output appears, atomically, only if the block succeeds. Without
    `requote`, a CSV value that needs quotes raises pa.ArrowInvalid (the caller starts over)
    instead of the CSV being rewritten quoted from a copy of its rows."""
    kind = output_kind(output)
    if kind == "folder":
        with files.atomic_dir(output.rstrip("/\\")) as tmp:
            with _Sink(tmp, "folder") as sink:
                yield sink
    else:
        with files.atomic_path(output) as tmp:
            with _Sink(tmp, kind, requote) as sink:
                yield sink


class _Sink:  # pylint: disable=too-many-instance-attributes  # one per output kind
    """Writes frames as they come. A CSV is written unquoted until a value needs quotes; then it
    is rewritten with every text value quoted, as `files.write_rows` does, from a Parquet copy
    spilled beside it (memory stays bounded)."""

    def __init__(self, path: Path, kind: str, requote: bool = True):
        self.path, self.kind, self.requote = path, kind, requote
        self.writer: pq.ParquetWriter | None = None
        self.spill: pq.ParquetWriter | None = None
        self.csv: pa.NativeFile | None = None
        self.header = b""
        self.quoting = pcsv.WriteOptions(include_header=False, quoting_style="none")
        self.parts = 0
        self.part_rows = 0
        self.schema: pa.Schema | None = None

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in (self.writer, self.spill, self.csv):
            if handle is not None:
                handle.close()
        (self.path.parent / f"{self.path.name}.spill").unlink(missing_ok=True)

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of `frame` (its columns, not its index)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.schema is None:
            self.schema = table.schema
        elif not table.schema.equals(self.schema):  # e.g. a column all missing in one batch
            table = table.cast(self.schema)
        if self.kind == "csv":
            self._write_csv(table, frame)
            return
        if self.kind == "folder" and (self.writer is None or self.part_rows >= PART_ROWS):
            if self.writer is not None:
                self.writer.close()
            name = self.path / f"part-{self.parts:05d}.parquet"
            self.writer = pq.ParquetWriter(str(name), self.schema)
            self.parts, self.part_rows = self.parts + 1, 0
        elif self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), self.schema)
        assert self.writer is not None
        self.writer.write_table(table)
        self.part_rows += len(table)

    def _write_csv(self, table: pa.Table, frame: pd.DataFrame) -> None:
        """CSV as `files.write_rows` writes it, keeping a Parquet copy in case quoting starts."""
        if self.csv is None:
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow(map(str, frame.columns))
            self.header = text.getvalue().encode("utf-8")
            self.csv = pa.OSFile(str(self.path), "wb")
            self.csv.write(self.header)
        if self.quoting.quoting_style == "none" and self.requote:  # still unquoted: keep a copy
            if self.spill is None:
                self.spill = pq.ParquetWriter(self._spill_path(), self.schema)
            self.spill.write_table(table)
        try:
            pcsv.write_csv(table, self.csv, self.quoting)
        except pa.ArrowInvalid:  # a value needs quotes: start over, quoting all text
            if not self.requote:
                raise
            self.quoting = pcsv.WriteOptions(include_header=False)
            assert self.spill is not None
            self.spill.close()
            self.spill = None
            self.csv.close()
            self.csv = pa.OSFile(str(self.path), "wb")
            self.csv.write(self.header)
            source = pq.ParquetFile(self._spill_path())
            for batch in source.iter_batches():
                pcsv.write_csv(pa.Table.from_batches([batch]), self.csv, self.quoting)
            source.close()
            self._spill_path().unlink()

    def _spill_path(self) -> Path:
        """The Parquet copy of the rows written unquoted so far."""
        return self.path.parent / f"{self.path.name}.spill"


def _detail(exc: BaseException) -> str:
    """The first line of an error's message, without a leading error class name."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text.split(": ", 1)[-1] if text.split(": ", 1)[0].endswith("Error") else text


def _short(source: str) -> str:
    """`source` for an error line: a query's first 60 characters."""
    flat = " ".join(source.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."
