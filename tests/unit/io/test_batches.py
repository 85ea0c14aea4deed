"""Arrow batches in and out: Parquet datasets, DuckDB streams, CSV/Parquet/folder sinks."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kaizen import KaizenError
from kaizen.io import batches, files


def frame(rows: int, start: int = 0) -> pd.DataFrame:
    """A small typed table."""
    return pd.DataFrame(
        {"x": [float(i) for i in range(start, start + rows)], "t": [f"v{i}" for i in range(rows)]}
    )


def test_input_and_output_kinds(tmp_path):
    """Queries, Parquet inputs (suffix, folder, glob) and output formats go by name."""
    assert batches.is_query("  select * from t") and batches.is_query("WITH a AS (SELECT 1) ...")
    assert not batches.is_query("data/selection.csv")
    assert batches.is_parquet("a.PARQUET") and batches.is_parquet("d/*.pq")
    assert batches.is_parquet(str(tmp_path)) and not batches.is_parquet("a.csv")
    assert (
        batches.output_kind("out/") == "folder" and batches.output_kind(str(tmp_path)) == "folder"
    )
    assert batches.output_kind("o.parquet") == "parquet" and batches.output_kind("o.csv") == "csv"
    assert batches.output_kind("o.txt") == "csv"


def test_parquet_files_errors(tmp_path):
    """A glob matching nothing, a folder without Parquet, a missing file: one line each."""
    with pytest.raises(KaizenError, match=r"/\*\.parquet: no file matches$"):
        batches.parquet_files(str(tmp_path / "*.parquet"))
    with pytest.raises(KaizenError, match="folder holds no .parquet file$"):
        batches.parquet_files(str(tmp_path))
    with pytest.raises(KaizenError, match="nope.parquet: file not found$"):
        batches.parquet_files(str(tmp_path / "nope.parquet"))


def test_parquet_batches_of_a_partitioned_folder(tmp_path):
    """A hive-partitioned folder is read in batches of the given size, its keys as columns;
    files starting with _ or . (Spark's markers) are not data."""
    for month, start in ((1, 0), (2, 5)):
        (tmp_path / f"month={month}").mkdir()
        frame(5, start).to_parquet(tmp_path / f"month={month}" / "part.parquet")
    (tmp_path / "_SUCCESS.parquet").write_bytes(b"")
    read = list(batches.parquet_batches(str(tmp_path), 2))
    assert [batch.num_rows for batch in read] == [2, 2, 1, 2, 2, 1]
    table = pa.Table.from_batches(read).to_pandas()
    assert table["x"].tolist() == [float(i) for i in range(10)]
    assert table["month"].tolist() == [1] * 5 + [2] * 5
    glob_read = pa.Table.from_batches(batches.parquet_batches(str(tmp_path / "*" / "*.parquet"), 3))
    assert glob_read.num_rows == 10


def test_parquet_batches_of_a_corrupt_file(tmp_path):
    """A file that is not Parquet is a one-line error naming it."""
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(KaizenError, match=r"bad.parquet: not a readable Parquet dataset \(") as err:
        list(batches.parquet_batches(str(bad), 10))
    assert "\n" not in str(err.value)


def test_duckdb_reads_parquet_csv_and_queries(tmp_path):
    """DuckDB streams a Parquet glob, a CSV as text (pandas' missing markers are missing) and a
    query, in batches; its memory limit is the one given."""
    frame(7).to_parquet(tmp_path / "a.parquet")
    read = list(
        batches.duckdb_batches(str(tmp_path / "*.parquet"), 3, memory_limit="64MB", threads=1)
    )
    assert pa.Table.from_batches(read).num_rows == 7
    (tmp_path / "a.csv").write_text("x,t\n1.5,NA\n,b\n", encoding="utf-8")
    table = pa.Table.from_batches(
        batches.duckdb_batches(str(tmp_path / "a.csv"), 10, memory_limit="64MB", threads=1)
    )
    assert table.column("x").to_pylist() == ["1.5", None]
    assert table.column("t").to_pylist() == [None, "b"]
    (tmp_path / "b.csv").write_text("x;t\n2,5;b\n", encoding="utf-8")
    table = pa.Table.from_batches(
        batches.duckdb_batches(
            str(tmp_path / "b.csv"), 10, memory_limit="64MB", threads=1, separator=";"
        )
    )
    assert table.column("x").to_pylist() == ["2,5"]
    limit = batches.duckdb_batches(
        "SELECT current_setting('memory_limit') AS m", 10, memory_limit="64MB", threads=1
    )
    assert next(limit).column(0).to_pylist()[0] in ("61.0 MiB", "64.0 MB", "61.0MiB")


def test_duckdb_errors_are_one_line(tmp_path):
    """A bad query or a missing CSV: one line naming the input, nothing yielded."""
    with pytest.raises(
        KaizenError, match=r"^SELECT \* FROM nowhere: DuckDB cannot read it \("
    ) as e:
        list(batches.duckdb_batches("SELECT * FROM nowhere", 10, memory_limit="64MB", threads=1))
    assert "\n" not in str(e.value)
    with pytest.raises(KaizenError, match="missing.csv: file not found$"):
        list(
            batches.duckdb_batches(str(tmp_path / "missing.csv"), 10, memory_limit="1GB", threads=1)
        )


def test_csv_sink_writes_what_write_rows_writes(tmp_path):
    """Batches written one by one give `files.write_rows`' file, also when a later batch holds
    a value that needs quotes (the file is then rewritten, quoted, from its spilled copy)."""
    parts = [frame(3), frame(3, 3), frame(2, 6).assign(t=["a,b", 'say "hi"'])]
    for chosen in (parts[:2], parts):
        files.write_rows(iter(chosen), tmp_path / "expected.csv")
        with batches.frame_sink(str(tmp_path / "streamed.csv")) as sink:
            for part in chosen:
                sink.write(part)
        assert (tmp_path / "streamed.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["expected.csv", "streamed.csv"]


def test_parquet_and_folder_sinks(tmp_path, monkeypatch):
    """One Parquet file, or a folder of parts of PART_ROWS rows; a column missing in one batch
    keeps the first batch's type."""
    monkeypatch.setattr(batches, "PART_ROWS", 4)
    parts = [frame(3), frame(3, 3), frame(3, 6).assign(t=pd.Series([None] * 3, dtype=object))]
    for output in (tmp_path / "one.parquet", tmp_path / "many"):
        with batches.frame_sink(str(output) + ("/" if output.suffix == "" else "")) as sink:
            for part in parts:
                sink.write(part)
        assert pd.read_parquet(output)["x"].tolist() == [float(i) for i in range(9)]
    assert sorted(path.name for path in (tmp_path / "many").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    first, last = (pq.read_schema(tmp_path / "many" / f"part-0000{i}.parquet") for i in (0, 1))
    assert last.field("t").type == first.field("t").type != pa.null()


def test_failed_sink_leaves_no_output(tmp_path):
    """An error while writing leaves neither the output nor a temporary file."""
    for name in ("out.csv", "out.parquet", "out/"):
        with pytest.raises(KaizenError):
            with batches.frame_sink(str(tmp_path / name)) as sink:
                sink.write(frame(2))
                raise KaizenError("boom")
    assert not list(tmp_path.iterdir())
