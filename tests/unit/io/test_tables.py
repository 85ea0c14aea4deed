"""Reading tabular files: raw CSV (strings by data row, pyarrow = pandas), snapshots, score files;
one-line errors naming the file."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaizen import KaizenError
from kaizen.io import tables as T
from kaizen.io.batches import to_frame

TEXT = "Status,Age,Home,Income\nbad,30,rent,100\ngood, 41 ,owner,\ngood,52,rent,250\n"


@pytest.fixture(name="csv")
def fixture_csv(tmp_path):
    """Write text to d.csv and return its path."""

    def write(content: str | bytes):
        path = tmp_path / "d.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


def test_read_raw_strings_indexed_by_data_row(csv):
    """Values stay strings (stripped of leading blanks), the index is the 1-based data row."""
    frame = T.read_raw(csv(TEXT))
    assert list(frame.columns) == ["Status", "Age", "Home", "Income"]
    assert frame.index.name == "row"
    assert list(frame.index) == [1, 2, 3]
    assert frame.loc[2, "Age"].strip() == "41"
    assert frame.loc[1, "Age"] == "30"
    assert pd.isna(frame.loc[2, "Income"])


def test_read_raw_bom_latin1_and_separator(csv):
    """A UTF-8 BOM is dropped, Latin-1 bytes decode, a custom separator is honoured."""
    frame = T.read_raw(csv(b"\xef\xbb\xbfStatus;Ville\nbad;Z\xc3\xbcrich\ngood;x\n"), ";")
    assert list(frame.columns) == ["Status", "Ville"]
    assert frame.loc[1, "Ville"] == "Zürich"
    frame = T.read_raw(csv(b"Status,Ville\nbad,Z\xfcrich\ngood,x\n"))
    assert frame.loc[1, "Ville"] == "Zürich"


def test_read_raw_strips_header_names(csv):
    """Blanks around header names are removed."""
    frame = T.read_raw(csv(" Status , Age\nbad,1\n"))
    assert list(frame.columns) == ["Status", "Age"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "file is empty"),
        ("  \n\n", "file is empty"),
        (b"PK\x03\x04\x00\x00binary", "not a CSV file (binary content)"),
        ("just one column\nof text\n", "not a CSV with separator ',' (header has 1 column)"),
        ("Status,,Age\nbad,1,2\n", "empty column name in header"),
        ("Status,Age,Age\nbad,1,2\n", "duplicate column name 'Age'"),
        ("Status,Age\n", "no data rows below the header"),
        ("Status,Age\nbad,1\ngood,2,3,4\n", "data row 2 has 4 fields, the header 2"),
        # a short row was read with a missing value and scored silently (issue 23)
        ("Status,Age,Home\nbad,1,rent\n\ngood,2\n", "data row 2 has 2 fields, the header 3"),
        ('"Status",Age\nbad,"1\n2"\ngood\n', "data row 2 has 1 fields, the header 2"),
    ],
)
def test_read_raw_rejects(csv, content, problem):
    """Each malformed file gives a one-line error naming the file and the problem."""
    path = csv(content)
    with pytest.raises(KaizenError) as caught:
        T.read_raw(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {problem}"), message
    assert "\n" not in message


def test_read_raw_missing_file(tmp_path):
    """A missing file is named."""
    with pytest.raises(KaizenError, match="nope.csv: file not found"):
        T.read_raw(tmp_path / "nope.csv")


# Cells that stress the two readers: pandas' missing markers (bare, quoted, after spaces),
# spaces, quotes, separators inside quotes, newlines inside quotes, non-ASCII text.
CELLS = [
    "",
    "1",
    "-2.5",
    "1e3",
    "abc",
    "NA",
    '"NA"',
    " NA",
    "  x",
    "x  ",
    " ",
    "nan",
    "None",
    "<NA>",
    "#N/A",
    '"a,b"',
    '"say ""hi"""',
    '"two\nlines"',
    "Zürich",
    " 7 ",
]


def generated_tables(test):
    """300 derandomized tables of CELLS: 2 to 4 columns, either separator, either line end."""
    return settings(max_examples=300, deadline=None, derandomize=True)(
        given(
            width=st.integers(2, 4),
            cells=st.lists(st.sampled_from(CELLS), min_size=1, max_size=24),
            separator=st.sampled_from([",", ";"]),
            newline=st.sampled_from(["\n", "\r\n"]),
        )(test)
    )


@generated_tables
def test_arrow_reader_reads_what_pandas_reads(width, cells, separator, newline):
    """pyarrow's fast path gives exactly pandas' frame (same cells, same missing), or defers."""
    rows = [cells[i : i + width] for i in range(0, len(cells), width)]
    rows = [row + ["1"] * (width - len(row)) for row in rows]
    header = separator.join(f"h{i}" for i in range(width))
    text = newline.join([header] + [separator.join(row) for row in rows]) + newline
    expected = T._read_pandas(text, separator, "d.csv")  # pylint: disable=protected-access
    fast = T._read_arrow(text.encode(), separator, width)  # pylint: disable=protected-access
    if fast is None:
        return
    fast.columns = expected.columns
    pd.testing.assert_frame_equal(fast, expected, check_dtype=False)
    assert fast.isna().equals(expected.isna())


def test_arrow_reader_used_on_clean_files_and_defers_on_ragged_rows():
    """The fast path reads ordinary files; a row with a missing field goes to pandas."""
    # pylint: disable=protected-access
    assert T._read_arrow(b"a,b\n1,x\n2,y\n", ",", 2) is not None
    assert T._read_arrow(b"a,b\n1\n2,y\n", ",", 2) is None
    assert T._read_arrow(b'"a",b\n1,x\n', ",", 2) is None
    assert T._read_arrow(b"a||b\n1||x\n", "||", 2) is None


def streamed(path, separator=",", rows=3, block_bytes=64) -> pd.DataFrame | None:
    """`stream_raw`'s tables as one frame indexed like `read_raw`'s, or None (not streamed)."""
    tables = T.stream_raw(path, separator, rows, block_bytes)
    if tables is None:
        return None
    frames, first = [], 1
    for table in tables:
        assert table.num_rows <= rows
        frames.append(to_frame(table, first))
        first += table.num_rows
    return pd.concat(frames)


@generated_tables
def test_stream_reads_what_read_raw_reads(tmp_path_factory, width, cells, separator, newline):
    """Streamed in small blocks and cut into 3-row tables, a file gives read_raw's frame, or
    defers (None, or a parse error that sends the caller to read_raw)."""
    rows = [cells[i : i + width] for i in range(0, len(cells), width)]
    rows = [row + ["1"] * (width - len(row)) for row in rows]
    header = separator.join(f"h{i}" for i in range(width))
    text = newline.join([header] + [separator.join(row) for row in rows]) + newline
    path = tmp_path_factory.mktemp("stream") / "d.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        expected = T.read_raw(path, separator)
    except KaizenError:
        expected = None
    try:
        fast = streamed(path, separator)
    except pa.ArrowInvalid:
        return
    if fast is None or expected is None:  # no row: the caller reads whole and reports it
        return
    pd.testing.assert_frame_equal(fast, expected)
    assert fast.isna().equals(expected.isna())


def test_stream_cuts_tables_of_rows_whatever_the_blocks(csv):
    """10 rows in 3-row tables from 40-byte blocks: 3, 3, 3, 1, the frame read_raw reads."""
    path = csv("a,b\n" + "".join(f"{i}, x{i}\n" for i in range(10)))
    tables = list(T.stream_raw(path, ",", 3, 40))
    assert [table.num_rows for table in tables] == [3, 3, 3, 1]
    assert tables[0].column_names == ["a", "b"]
    pd.testing.assert_frame_equal(streamed(path, rows=3, block_bytes=40), T.read_raw(path))


def test_stream_drops_a_bom_and_reads_crlf_blank_lines_and_quotes(csv):
    """A UTF-8 BOM, CRLF line ends, a blank line, a quoted separator: read_raw's frame."""
    path = csv(b'\xef\xbb\xbfStatus;Ville\r\nbad;Z\xc3\xbcrich\r\ngood; NA\r\n\r\nok;"a;b"\r\n')
    frame = streamed(path, ";")
    assert list(frame.columns) == ["Status", "Ville"] and frame.loc[3, "Ville"] == "a;b"
    pd.testing.assert_frame_equal(frame, T.read_raw(path, ";"))


@pytest.mark.parametrize(
    ("content", "separator"),
    [
        ("", ","),
        ("  \n\n", ","),
        (b"PK\x03\x04\x00\x00binary\n1,2\n", ","),
        ('"a",b\n1,2\n', ","),  # a quoted header: read_raw goes to pandas
        ("a||b\n1||2\n", "||"),
        ("a\n1\n", ","),
        ("a,,b\n1,2,3\n", ","),
        ("a,b,a\n1,2,3\n", ","),
        (b"St\xe4tus,b\n1,2\n", ","),  # Latin-1: read_raw decodes the whole file so
        ("a,b", ","),  # no line break in the first 64 KiB
    ],
)
def test_stream_defers_where_read_raw_could_differ(csv, content, separator):
    """Where read_raw would read otherwise or refuse the file, stream_raw gives None."""
    assert T.stream_raw(csv(content), separator) is None


def test_stream_raises_on_a_ragged_row_or_bytes_not_utf8(csv, tmp_path):
    """A parse error surfaces while iterating (the caller then reads whole)."""
    with pytest.raises(pa.ArrowInvalid):
        list(T.stream_raw(csv("a,b\n1,2\n3\n"), ","))
    with pytest.raises(pa.ArrowInvalid):
        list(T.stream_raw(csv(b"a,b\n1,Z\xfcrich\n"), ","))
    assert T.stream_raw(tmp_path / "nope.csv") is None


def test_read_snapshot(tmp_path):
    """A CSV is stored as it is; a Parquet file as CSV; missing or broken files are named."""
    csv = tmp_path / "a.csv"
    csv.write_bytes(b"x;y\n1;2\n")
    assert T.read_snapshot(csv, ";") == (b"x;y\n1;2\n", ";")
    parquet = tmp_path / "events.parquet"
    frame = pd.DataFrame({"Income": [1.5, None], "Home": ["rent", "owner"], "Status": [1, 0]})
    frame.to_parquet(parquet, index=False)
    content, separator = T.read_snapshot(parquet, ";")
    assert separator == "," and content == b"Income,Home,Status\n1.5,rent,1\n,owner,0\n"
    with pytest.raises(KaizenError, match=r"nope.csv: file not found$"):
        T.read_snapshot(tmp_path / "nope.csv", ",")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(KaizenError, match=r"broken.parquet: not a readable Parquet file \(.+\)$"):
        T.read_snapshot(broken, ",")


def test_score_files_errors_name_the_file():
    """A scores CSV without its columns, a full copy that is not Parquet or lacks a column: a
    one-line error naming the file."""
    with pytest.raises(KaizenError, match="s.csv: missing column.s. score"):
        T.parse_scores(b"row,y\n1,0\n", "s.csv")
    with pytest.raises(KaizenError, match="^s.parquet: not a readable Parquet file"):
        T.full_scores(b"nope", "s.parquet")
    buffer = io.BytesIO()
    pd.DataFrame({"row": [1], "y": [0]}).to_parquet(buffer)
    with pytest.raises(KaizenError, match="^s.parquet: missing column.s. part, score"):
        T.full_scores(buffer.getvalue(), "s.parquet")
    assert T.full_scores(None, "s.parquet") == {}
