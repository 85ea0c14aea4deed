"""Schema inference, target encoding, splits and scoring input (reading: tests/unit/io)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kaizen import KaizenError
from kaizen.io import tables
from kaizen.pipeline import data as D
from kaizen.config import DataConfig
from kaizen.splits import DateSplit, NoSplit, RowSplit, ShareSplit


def config(**overrides) -> DataConfig:
    """A DataConfig for the tiny frames of this module."""
    return DataConfig(**{"path": "d.csv", "target": "Status", "positive": "bad", **overrides})


def text_frame(columns: dict[str, list], rows: int | None = None) -> pd.DataFrame:
    """A frame of strings indexed by 1-based data row, like `read_raw` returns."""
    frame = pd.DataFrame(columns, dtype=object)
    rows = rows or len(frame)
    frame.index = pd.RangeIndex(1, rows + 1, name=D.ROW)
    return frame


def is_float_nan(value) -> bool:
    """True for a float NaN (what scikit-learn imputers expect), False for pd.NA or None."""
    return isinstance(value, float) and np.isnan(value)


def test_schema_round_trip_and_features():
    """to_dict/from_dict are inverse; features are numeric then categorical."""
    schema = D.Schema("y", "bad", ["a", "b"], ["c"])
    assert schema.features == ["a", "b", "c"]
    assert D.Schema.from_dict(schema.to_dict()) == schema
    assert schema.to_dict() == {
        "target": "y",
        "positive": "bad",
        "numeric": ["a", "b"],
        "categorical": ["c"],
    }


def test_to_numeric_coerces_text_to_nan():
    """Blanks are stripped, text becomes NaN."""
    parsed = D._to_numeric(pd.Series([" 1.5", "2 ", "x"]))  # pylint: disable=protected-access
    assert parsed.iloc[:2].tolist() == [1.5, 2.0]
    assert np.isnan(parsed.iloc[2])


def test_infer_schema_by_content():
    """Numeric columns parse fully; text columns are categorical; the target is excluded."""
    frame = text_frame(
        {"Status": ["bad", "good", "good"], "Age": ["30", "41", None], "Home": ["a", "b", "a"]}
    )
    schema = D.infer_schema(frame, config())
    assert schema == D.Schema("Status", "bad", ["Age"], ["Home"])


def test_infer_schema_overrides():
    """params overrides force categorical, numeric or drop."""
    frame = text_frame(
        {
            "Status": ["bad", "good", "good"],
            "Code": ["1", "2", "3"],
            "Id": ["7", "8", "9"],
            "Level": ["1", "x", "3"],
        }
    )
    cfg = config(columns={"Code": "categorical", "Id": "drop"})
    schema = D.infer_schema(frame, cfg)
    assert not schema.numeric
    assert schema.categorical == ["Code", "Level"]
    with pytest.raises(KaizenError, match="column 'Level' is numeric but holds text in 1 row"):
        D.infer_schema(frame, config(columns={"Level": "numeric"}), "d.csv")


def test_infer_schema_mostly_numeric_column_with_typo():
    """A column >= 95 % numeric with a text value is an error naming value and row."""
    values = [str(i) for i in range(30)]
    values[17] = "abc"
    frame = text_frame({"Status": ["bad", "good"] * 15, "Age": values})
    with pytest.raises(KaizenError) as caught:
        D.infer_schema(frame, config(), "d.csv")
    assert str(caught.value) == (
        "d.csv: column 'Age' is numeric but holds text in 1 row(s), e.g. 'abc' at data row 18"
    )


def test_infer_schema_errors():
    """Unknown override column, all-empty column, no features left."""
    frame = text_frame({"Status": ["bad", "good"], "Empty": [None, None], "A": ["1", "2"]})
    with pytest.raises(KaizenError, match=r"data.columns.Zz: no such column in d.csv"):
        D.infer_schema(frame, config(columns={"Zz": "drop"}), "d.csv")
    with pytest.raises(KaizenError) as caught:
        D.infer_schema(frame, config(), "d.csv")
    assert str(caught.value) == (
        "d.csv: column 'Empty' is empty in every row (drop it with data.columns: {Empty: drop})"
    )
    with pytest.raises(KaizenError, match="no feature columns besides the target 'Status'"):
        D.infer_schema(frame, config(columns={"Empty": "drop", "A": "drop"}), "d.csv")


@pytest.mark.parametrize(
    ("labels", "positive", "expected"),
    [
        (["bad", "good", " bad "], "bad", [1, 0, 1]),
        (["0", "1", "1"], "1", [0, 1, 1]),
        (["0.0", "1.0", "0.0"], "1", [0, 1, 0]),
        (["0", "1", "0"], "1.0", [0, 1, 0]),
        (["True", "False", "True"], "true", [1, 0, 1]),
        (["Bad", "Good", "Good"], "bad", [1, 0, 0]),
    ],
)
def test_encode_target(labels, positive, expected):
    """Strings, 0/1 integers, 1.0 floats and case variants map to 1/0."""
    encoded = D.encode_target(pd.Series(labels), positive, "y", "d.csv")
    assert encoded.tolist() == expected
    assert encoded.dtype == "int8"
    assert encoded.name == "y"


@pytest.mark.parametrize(
    ("labels", "positive", "problem"),
    [
        (["bad", "bad"], "bad", "target 'y' must have exactly 2 classes, found 1: ['bad']"),
        (["a", "b", "c"], "a", "target 'y' must have exactly 2 classes, found 3"),
        (["good", "badd"], "bad", "target 'y' has no value equal to data.positive='bad'"),
        (["0", "1"], "2", "target 'y' has no value equal to data.positive='2'"),
        (["bad", None], "bad", "target 'y' is missing at data row 1"),
    ],
)
def test_encode_target_rejects(labels, positive, problem):
    """One class, three classes, absent positive value, missing target."""
    with pytest.raises(KaizenError) as caught:
        D.encode_target(pd.Series(labels, dtype=object), positive, "y", "d.csv")
    assert str(caught.value).startswith(f"d.csv: {problem}")


def test_clean_types_sentinels_and_target():
    """Numeric -> float64 with sentinels as NaN; categorical stripped with text sentinels."""
    frame = text_frame(
        {
            "Status": ["bad", "good", "good"],
            "Income": ["100", "99999999", " 7"],
            "Home": [" rent", "?", None],
        }
    )
    cfg = config(missing_values=[99999999, "?"])
    schema = D.Schema("Status", "bad", ["Income"], ["Home"])
    out = D.clean(frame, schema, cfg, "d.csv")
    assert out["Income"].dtype == "float64"
    assert out["Income"].iloc[0] == 100 and np.isnan(out["Income"].iloc[1])
    assert out["Income"].iloc[2] == 7
    assert out["Home"].dtype == object
    assert out["Home"].iloc[0] == "rent"
    assert out["Home"].iloc[1:].isna().all()
    assert out["Status"].tolist() == [1, 0, 0]
    assert list(out.index) == [1, 2, 3]


def test_clean_without_sentinels_keeps_values():
    """With no missing_values nothing is masked."""
    frame = text_frame({"Status": ["bad", "good"], "Income": ["0", "5"], "Home": ["?", "a"]})
    out = D.clean(frame, D.Schema("Status", "bad", ["Income"], ["Home"]), config(), "d.csv")
    assert out["Income"].tolist() == [0.0, 5.0]
    assert out["Home"].tolist() == ["?", "a"]


def test_is_number():
    """Numbers and numeric strings are numbers; text and None are not."""
    assert D._is_number(3) and D._is_number("2.5")  # pylint: disable=protected-access
    assert not D._is_number("?")  # pylint: disable=protected-access
    assert not D._is_number(None)  # pylint: disable=protected-access


def row(start: int) -> RowSplit:
    """A row split."""
    return RowSplit(by="row", start=start)


def share(current: float) -> ShareSplit:
    """A share split."""
    return ShareSplit(by="share", current=current)


def by_date(current_from: str, fmt: str | None = "%b-%Y", column: str = "month") -> DateSplit:
    """A date split on `column`."""
    return DateSplit(by="date", column=column, format=fmt, current_from=current_from)


@pytest.mark.parametrize(
    ("split", "expected"),
    [
        (NoSplit(by="none"), 10),
        (share(0.3), 7),
        (share(0.25), 8),
        (row(2), 1),
        (row(7), 6),
        (row(10), 9),
    ],
)
def test_split_position(split, expected):
    """No split keeps all rows; a share goes to current; a row number starts current."""
    assert D.split_position(10, split) == expected


def test_split_position_beyond_last_row():
    """A row number past the data is an error naming the key; a date split has no position."""
    with pytest.raises(
        KaizenError, match=r"data.split.start: row 11 is beyond the last data row \(10\)"
    ):
        D.split_position(10, row(11))
    with pytest.raises(TypeError):
        D.split_position(10, by_date("2018-03"))


def test_split_reference_current():
    """Row number, share and no split cut the file order; slices keep a RangeIndex."""
    frame = pd.DataFrame({"a": range(10)}, index=pd.RangeIndex(1, 11, name=D.ROW))
    ref, cur = D.split_reference_current(frame, row(8))
    assert list(ref.index) == list(range(1, 8)) and list(cur.index) == [8, 9, 10]
    assert isinstance(cur.index, pd.RangeIndex)
    ref, cur = D.split_reference_current(frame, share(0.2))
    assert len(ref) == 8 and list(cur["a"]) == [8, 9]
    ref, cur = D.split_reference_current(frame, NoSplit(by="none"))
    assert len(ref) == 10 and cur.empty


MONTHS = ["Jan-2018", "Mar-2018", "Dec-2017", "Feb-2018", "Apr-2018", "Mar-2018", "Jan-2018"]


def test_date_split_orders_rows_and_starts_current_at_current_from():
    """Rows ordered by month (ties in file order); exactly the months from current_from on are
    current, whether current_from is ISO or in the column's format."""
    frame = text_frame({"month": MONTHS, "a": list("abcdefg")})
    for start in ("2018-03", "Mar-2018", "2018-03-01"):
        ref, cur = D.split_reference_current(frame, by_date(start))
        assert list(ref["month"]) == ["Dec-2017", "Jan-2018", "Jan-2018", "Feb-2018"]
        assert list(ref.index) == [3, 1, 7, 4]
        assert list(cur["month"]) == ["Mar-2018", "Mar-2018", "Apr-2018"]
        assert list(cur.index) == [2, 6, 5]
    ref, cur = D.split_reference_current(frame, by_date("2019-01"))
    assert len(ref) == 7 and cur.empty
    ref, cur = D.split_reference_current(frame, by_date("2017-01"))
    assert ref.empty and len(cur) == 7


def test_date_split_iso_and_time_zones():
    """ISO dates need no format; aware dates compare with a naive or an aware current_from."""
    frame = text_frame({"day": ["2020-01-02", "2020-01-01", "2020-01-03"]})
    ref, cur = D.split_reference_current(frame, by_date("2020-01-02", None, "day"))
    assert list(ref.index) == [2] and list(cur.index) == [1, 3]
    aware = text_frame({"at": ["2020-01-01T23:30:00+00:00", "2020-01-02T00:30:00+00:00"]})
    for start in ("2020-01-02", "2020-01-02T01:00:00+01:00"):
        ref, cur = D.split_reference_current(aware, by_date(start, None, "at"))
        assert list(ref.index) == [1] and list(cur.index) == [2]
    naive = text_frame({"at": ["2020-01-01T23:30:00", "2020-01-02T00:30:00"]})
    ref, cur = D.split_reference_current(naive, by_date("2020-01-02T00:00:00+00:00", None, "at"))
    assert list(ref.index) == [1] and list(cur.index) == [2]


@pytest.mark.parametrize(
    ("columns", "split", "problem"),
    [
        ({"a": ["x"]}, by_date("2018-03"), "date column 'month' not found (data.split.column"),
        (
            {"month": ["Jan-2018", None]},
            by_date("2018-03"),
            "date column 'month' is missing at data row 2 (a date split needs a date in every row)",
        ),
        (
            {"month": ["Jan-2018", "2018-02"]},
            by_date("2018-03"),
            "date column 'month' holds '2018-02' at data row 2, not a date in format '%b-%Y' "
            "(data.split.format)",
        ),
        (
            {"month": ["2018-01-01", "soon"]},
            by_date("2018-03", None),
            "date column 'month' holds 'soon' at data row 2, not a date in format 'ISO8601'",
        ),
        (
            {"month": ["2018-01-01T00:00:00+01:00", "2018-01-01T00:00:00+02:00"]},
            by_date("2018-03", None),
            "date column 'month' is not readable (",
        ),
    ],
)
def test_date_split_errors(columns, split, problem):
    """A missing column, a missing date or a value in another format: one line with the row."""
    with pytest.raises(KaizenError) as caught:
        D.split_reference_current(text_frame(columns), split, "f.csv")
    assert str(caught.value).startswith(f"f.csv: {problem}"), str(caught.value)


@pytest.mark.parametrize(
    ("n_ref", "n_cur", "split", "expected"),
    [
        (80, 20, share(0.2), None),
        (20, 80, row(21), None),
        (81, 19, row(82), "leaves 19 of 100 rows (19%) in the current part, under 20%"),
        (19, 81, row(20), "leaves 19 of 100 rows (19%) in the reference part, under 20%"),
        (100, 0, by_date("2018-03"), "leaves 0 of 100 rows (0%) in the current part"),
        (100, 0, NoSplit(by="none"), None),
        (0, 0, row(2), None),
    ],
)
def test_split_balance_warns_outside_20_80(n_ref, n_cur, split, expected):
    """A split leaving under 20 % of the rows on one side gets a warning naming the split."""
    warnings = D.split_balance(n_ref, n_cur, split, "f.csv")
    if expected is None:
        assert not warnings
    else:
        assert len(warnings) == 1 and expected in warnings[0]
        assert warnings[0].startswith(f"f.csv: data.split {{by: {split.by}")


def test_ingest_date_split_keeps_the_date_out_of_the_features():
    """ingest on a month column: the date orders and splits the rows and is not a feature."""
    rows = len(MONTHS)
    frame = text_frame(
        {
            "Status": ["bad", "good"] * 3 + ["bad"],
            "month": MONTHS,
            "Income": [str(100 + i) for i in range(rows)],
        }
    )
    parts = D.ingest(frame, config(split=by_date("2018-03").model_dump()), "f.csv")
    assert parts.schema.features == ["Income"]
    assert "month" not in parts.reference.columns
    assert list(parts.reference.index) == [3, 1, 7, 4]
    assert list(parts.current.index) == [2, 6, 5]
    assert parts.facts["current"]["rows"] == 3
    assert not parts.warnings
    late = D.ingest(frame, config(split=by_date("2018-04").model_dump()), "f.csv")
    assert late.warnings and "in the current part, under 20%" in late.warnings[0]


def test_ingest_checks_the_key_columns():
    """data.key must name columns of the data: an unknown one is a one-line error naming it."""
    raw = text_frame({"Status": ["bad", "good"] * 3, "Id": list("abcdef"), "Age": ["1"] * 6})
    D.ingest(raw, config(key="Id"), "d.csv")
    with pytest.raises(KaizenError) as caught:
        D.ingest(raw, config(key=["Id", "Branch"]), "d.csv")
    assert str(caught.value) == "params.yaml: data.key: no such column 'Branch' in d.csv"


def test_drop_duplicate_rows():
    """Exact duplicates after the first are removed and counted."""
    frame = pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "x", "x", "y"]})
    out, removed = D.drop_duplicate_rows(frame)
    assert removed == 1
    assert list(out.index) == [0, 2, 3]


def test_summarise():
    """Rows, positive rate and missing share; None for an empty part."""
    schema = D.Schema("y", "1", ["a"], ["b"])
    frame = pd.DataFrame(
        {"a": [1.0, np.nan, 3.0, 4.0], "b": ["x", "y", None, "z"], "y": [1, 0, 0, 0]}
    )
    assert D.summarise(frame, schema) == {"rows": 4, "positive_rate": 0.25, "missing_share": 0.25}
    assert D.summarise(frame.iloc[:0], schema) == {
        "rows": 0,
        "positive_rate": None,
        "missing_share": None,
    }


def test_check_columns():
    """Missing model columns are listed."""
    schema = D.Schema("y", "1", ["a", "b"], ["c"])
    D.check_columns(pd.DataFrame(columns=["c", "b", "a", "extra"]), schema, "new.csv")
    with pytest.raises(KaizenError, match="new.csv: missing column.s. the model needs: a, c"):
        D.check_columns(pd.DataFrame(columns=["b"]), schema, "new.csv")


def test_coerce_features_from_raw_strings(tmp_path):
    """Raw strings become floats/objects in schema order; extra columns are dropped."""
    path = tmp_path / "new.csv"
    path.write_text("Home,Extra,Income\n rent,z,100\nowner,z,\n", encoding="utf-8")
    raw = tables.read_raw(path)
    out = D.coerce_features(raw, D.Schema("y", "1", ["Income"], ["Home"]), str(path))
    assert list(out.columns) == ["Income", "Home"]
    assert out["Income"].dtype == "float64"
    assert out["Income"].iloc[0] == 100 and np.isnan(out["Income"].iloc[1])
    assert out["Home"].tolist() == ["rent", "owner"]
    assert isinstance(out["Home"].dtype, pd.CategoricalDtype)


def test_coerce_features_numeric_input_passes_through():
    """Already-numeric columns are kept; missing categorical values become NaN."""
    frame = pd.DataFrame({"Income": [1, 2], "Home": ["a", None]})
    out = D.coerce_features(frame, D.Schema("y", "1", ["Income"], ["Home"]), "f")
    assert out["Income"].tolist() == [1.0, 2.0]
    assert out["Home"].iloc[0] == "a" and is_float_nan(out["Home"].iloc[1])


def test_coerce_features_rejects_text_in_numeric(tmp_path):
    """Text in a numeric column is named with its value and data row."""
    path = tmp_path / "new.csv"
    path.write_text("Income,Home\n100,a\nabc,b\n", encoding="utf-8")
    raw = tables.read_raw(path)
    with pytest.raises(KaizenError) as caught:
        D.coerce_features(raw, D.Schema("y", "1", ["Income"], ["Home"]), str(path))
    assert str(caught.value) == (
        f"{path}: column 'Income' holds text 'abc' at data row 2, the model expects a number"
    )


def test_as_object():
    """Strings become an object column with NaN (not pd.NA) for missing values."""
    out = D.as_object(pd.Series(["a", None], dtype="string"))
    assert out.dtype == object
    assert out.iloc[0] == "a" and is_float_nan(out.iloc[1])


def split_frame(rows: int = 40) -> pd.DataFrame:
    """A target with 25 % positives, indexed by data row."""
    return pd.DataFrame(
        {"x": range(rows), "y": [1 if i % 4 == 0 else 0 for i in range(rows)]},
        index=pd.RangeIndex(1, rows + 1, name="row"),
    )


def test_split_is_stratified_sorted_and_seeded():
    """Sizes follow test_size, class shares are kept, order is by row, seed reproduces."""
    data = split_frame()
    train, test = D.split_train_test(data, "y", 0.25, 1)
    assert len(train) == 30 and len(test) == 10
    assert test["y"].sum() in (2, 3)
    assert train["y"].sum() + test["y"].sum() == 10
    assert train.index.is_monotonic_increasing and test.index.is_monotonic_increasing
    assert set(train.index).isdisjoint(test.index)
    again, _ = D.split_train_test(data, "y", 0.25, 1)
    assert again.index.equals(train.index)
    other, _ = D.split_train_test(data, "y", 0.25, 2)
    assert not other.index.equals(train.index)


def test_split_needs_two_rows_per_class():
    """A class with fewer than two rows cannot be stratified."""
    data = split_frame(8)
    data["y"] = [1, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(KaizenError, match=r"needs >= 2 rows of each class, has \{0: 7, 1: 1\}"):
        D.split_train_test(data, "y", 0.25, 42)
    data["y"] = 0
    with pytest.raises(KaizenError, match="needs >= 2 rows of each class"):
        D.split_train_test(data, "y", 0.25, 42)


NUMBERS = ["1", "-2.5", "1e3", "+4", ".5", "7.", "0", "-0", "1E-2", "inf", "-inf", " 3", "x", "1,5"]
LABELS = ["rent", " rent ", "owner", "Zürich", "\tx", "a b"]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    numbers=st.lists(st.sampled_from(NUMBERS + ["NA", ""]), min_size=1, max_size=12),
    labels=st.lists(st.sampled_from(LABELS + ["NA", ""]), min_size=12, max_size=12),
)
def test_arrow_typing_equals_pandas_typing(numbers, labels):
    """coerce_features types pyarrow text exactly as it types object text, errors included."""
    schema = D.Schema("Status", "bad", ["Age"], ["Home"])
    rows = [f"bad,{n},{labels[i]}" for i, n in enumerate(numbers)]
    text = "\n".join(["Status,Age,Home"] + rows) + "\n"
    fast = tables._read_arrow(text.encode(), ",", 3)  # pylint: disable=protected-access
    assume(fast is not None)
    fast.columns = ["Status", "Age", "Home"]
    fast.index = pd.RangeIndex(1, len(fast) + 1, name=D.ROW)
    slow = fast.astype(object).where(fast.notna(), np.nan)
    outcomes = []
    for frame in (fast, slow):
        try:
            outcomes.append(D.coerce_features(frame, schema, "d.csv"))
        except KaizenError as exc:
            outcomes.append(str(exc))
    if isinstance(outcomes[1], str):
        assert outcomes[0] == outcomes[1]
    else:
        pd.testing.assert_frame_equal(outcomes[0], outcomes[1])
