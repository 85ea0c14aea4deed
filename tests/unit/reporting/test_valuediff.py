"""Which values a data change touched: one sentence per edit kind, on slices of the real file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kaizen.reporting import valuediff as V
from kaizen.reporting.rowmatch import frame_chunks
from kaizen.io.tables import read_raw

RAW = Path(__file__).resolve().parents[3] / "data" / "raw" / "credit_data.csv"


@pytest.fixture(name="base", scope="module")
def fixture_base() -> pd.DataFrame:
    """The embedded file's first 1,000 rows, as `read_raw` gives them (strings)."""
    return read_raw(RAW).iloc[:1000].reset_index(drop=True)


def diff(base: pd.DataFrame, head: pd.DataFrame, rows: int = 128, **options) -> V.ValueDiff:
    """The value diff of two frames read in chunks of `rows` (several chunks per frame)."""
    columns = [name for name in head.columns if name in base.columns]
    return V.value_diff(frame_chunks(base, rows), frame_chunks(head, rows), columns, **options)


def lines(result: V.ValueDiff) -> list[str]:
    """The markdown bullets the report shows."""
    return V.value_lines(result)


def rescaled(frame: pd.DataFrame, column: str, rows, factor: float) -> pd.DataFrame:
    """`column` x `factor` in `rows` (missing values stay missing), written as the file does."""
    out = frame.copy()
    values = pd.to_numeric(out.loc[rows, column]) * factor
    out.loc[rows, column] = values.map(lambda v: np.nan if np.isnan(v) else f"{round(v):.1f}")
    return out


def test_rows_removed(base):
    """Removed rows only: no value changed, whichever rows went."""
    head = base.drop(index=[3, 4, 5, 200, 640, 999]).reset_index(drop=True)
    assert lines(diff(base, head)) == [
        "- 6 rows removed, 0 added, 0 reordered, 0 edited; no value changed (14 columns "
        "compared)."
    ]


def test_rows_added(base):
    """New rows, in the middle and at the end: added, no value changed."""
    new = base.iloc[:5].assign(Age="99")
    head = pd.concat([base.iloc[:300], new, base.iloc[300:], new], ignore_index=True)
    assert lines(diff(base, head)) == [
        "- 0 rows removed, 10 added, 0 reordered, 0 edited; no value changed (14 columns "
        "compared)."
    ]


def test_column_rescaled_in_part_of_the_file_with_rows_removed_inside_it(base):
    """The issue's edit on a slice: Income x 1.1 from row 600 on, rows removed above and among
    the edited rows; only Income is named, with its median ratio, and no other column."""
    head = rescaled(base, "Income", base.index >= 600, 1.1)
    head = head.drop(index=[10, 11, 12, 650, 700, 701]).reset_index(drop=True)
    edited = int(pd.to_numeric(base.loc[600:, "Income"]).drop(index=[650, 700, 701]).notna().sum())
    assert lines(diff(base, head)) == [
        f"- `Income`: {edited} rows changed (median × 1.10; 0 set missing)",
        f"- 6 rows removed, 0 added, 0 reordered, {edited} edited; no other column changed "
        "(13 of 14 compared).",
    ]


def test_column_shifted_reads_as_a_difference(base):
    """Age + 3 in every row: a constant difference, not a ratio."""
    head = base.assign(Age=(pd.to_numeric(base["Age"]) + 3).astype(str))
    assert lines(diff(base, head))[0] == "- `Age`: 1,000 rows changed (median +3; 0 set missing)"


def test_category_recoded(base):
    """owner -> rent in 40 rows: the transition and its count."""
    owners = base.index[base["Home"] == "owner"][:40]
    head = base.copy()
    head.loc[owners, "Home"] = "rent"
    assert lines(diff(base, head)) == [
        "- `Home`: 40 rows recoded (owner → rent: 40)",
        "- 0 rows removed, 0 added, 0 reordered, 40 edited; no other column changed (13 of 14 "
        "compared).",
    ]


def test_values_set_missing_and_mixed_changes(base):
    """Debt set missing in 37 rows: one sentence; a column with recodings, missing and filled
    cells lists the top transitions and counts the rest."""
    head = base.copy()
    present = base.index[base["Debt"].notna()][:37]
    head.loc[present, "Debt"] = np.nan
    assert lines(diff(base, head))[0] == "- `Debt`: 37 values set missing"
    head = base.copy()
    jobs = {"fixed": "partime", "freelance": "fixed", "partime": "others", "others": "fixed"}
    for old, new in jobs.items():
        head.loc[base.index[base["Job"] == old][: {"fixed": 9}.get(old, 2)], "Job"] = new
    head.loc[base.index[base["Job"] == "fixed"][20:23], "Job"] = np.nan
    result = diff(base, head)
    assert V.edit_sentence(result.edits[0]) == (
        "`Job`: 18 rows changed (fixed → partime: 9, freelance → fixed: 2, others → fixed: 2, "
        "other recodings: 2; 3 set missing)"
    )


def test_rows_reordered(base):
    """Rows moved, none changed: reordered, no value changed."""
    order = np.r_[np.arange(100, 200), np.arange(100), np.arange(200, 1000)]
    head = base.iloc[order].reset_index(drop=True)
    assert lines(diff(base, head)) == [
        "- 0 rows removed, 0 added, 100 reordered, 0 edited; no value changed (14 columns "
        "compared)."
    ]
    shuffled = base.sample(frac=1, random_state=0).reset_index(drop=True)
    result = diff(base, shuffled)
    assert (result.removed, result.added, result.edited, result.edits) == (0, 0, 0, [])
    assert 900 < result.reordered < 1000


def test_rows_edited_in_several_columns_pair_when_alike_or_in_turn(base):
    """Rows edited in two columns, with a row of their stretch removed, still pair (they agree
    on most columns); rows rewritten in most columns pair in file order only when both sides
    of the stretch hold as many, else they count as removed and added."""
    head = base.copy()
    head.loc[500:509, "Age"] = "18"
    head.loc[500:509, "Home"] = "gig"
    result = diff(base, head.drop(index=505))
    assert [(e.column, e.rows) for e in result.edits] == [("Home", 9), ("Age", 9)]
    assert (result.removed, result.added, result.edited) == (1, 0, 9)
    numbers = ["Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount"]
    rewritten = base.copy()
    rewritten.loc[500:509, numbers] = "1"
    result = diff(base, rewritten)
    assert (result.removed, result.added, result.edited) == (0, 0, 10)
    result = diff(base, rewritten.drop(index=505))
    assert (result.removed, result.added, result.edited, result.edits) == (10, 9, 0, [])


def test_key_matches_rows_wherever_they_are(base):
    """With a key, shuffled and edited rows pair by it; a new key is an added row."""
    keyed = base.assign(Id=[f"L{i}" for i in range(len(base))])
    head = rescaled(keyed, "Amount", keyed.index < 50, 2.0)
    head = head.drop(index=[900]).sample(frac=1, random_state=1)
    head = pd.concat([head, keyed.iloc[[3]].assign(Id="new")], ignore_index=True)
    result = diff(keyed, head, key=["Id"])
    assert (result.removed, result.added, result.edited) == (1, 1, 50)
    assert result.reordered > 900  # with a key, edited rows count among the reordered too
    assert (
        V.edit_sentence(result.edits[0])
        == "`Amount`: 50 rows changed (median × 2.00; 0 set missing)"
    )
    assert result.duplicate_keys == 0
    twice = pd.concat([head, head.iloc[:2]], ignore_index=True)
    assert diff(keyed, twice, key=["Id"]).duplicate_keys == 2


def test_chunk_size_does_not_change_the_result(base):
    """One chunk or chunks of 7 rows: the same diff."""
    head = rescaled(base, "Price", base.index % 3 == 0, 0.5).drop(index=[1, 500])
    head = head.reset_index(drop=True)
    assert diff(base, head, rows=7) == diff(base, head, rows=10_000)


def test_sentences_edge_cases():
    """Filled-in values, ratios out of the 2-decimal range, non-numbers, long lists."""
    filled = V.ColumnEdit("x", "numeric", 4, filled=4)
    assert V.edit_sentence(filled) == "`x`: 4 missing values filled in"
    assert V.edit_sentence(V.ColumnEdit("x", "numeric", 1, set_missing=1)) == (
        "`x`: 1 value set missing"
    )
    big = V.ColumnEdit("x", "numeric", 2, 1, 0, ratio=1000.0, difference=999.0)
    assert V.edit_sentence(big) == "`x`: 2 rows changed (median × 1e+03; 1 set missing)"
    text = V.ColumnEdit("x", "numeric", 2)
    assert V.edit_sentence(text) == "`x`: 2 rows changed (not numbers; 0 set missing)"
    cells = V.ColumnEdit("x", "categorical", 1, transitions=[("a\nb", "c" * 50, 1)])
    assert V.edit_sentence(cells) == f"`x`: 1 row recoded (a b → {'c' * 39}…: 1)"
    edits = [V.ColumnEdit(f"c{i}", "numeric", 1, 1) for i in range(17)]
    result = V.ValueDiff([f"c{i}" for i in range(17)], [], 0, 0, 0, 17, edits)
    assert lines(result)[-2:] == [
        "- 2 more column(s) changed: `c15` (1), `c16` (1)",
        "- 0 rows removed, 0 added, 0 reordered, 17 edited; every column changed.",
    ]
    assert V.headline(result) == (
        "0 removed, 0 added; values changed: `c0` in 1 row, `c1` in 1 row, `c2` in 1 row "
        "and 14 more column(s)"
    )
