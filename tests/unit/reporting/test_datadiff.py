"""Raw data changes between two revisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.reporting import datadiff as R
from kaizen.config import DriftConfig
from tests.unit.helpers import edited_credit_data


def test_data_change_on_two_frames():
    """Rows, added/removed columns, type changes and target rate between two raw frames."""
    base = pd.DataFrame(
        {"Status": ["good", "bad", "good", "good"], "Age": ["30", "41", "22", "50"],
         "Home": ["rent", "own", "rent", "own"], "Old": ["1", "2", "3", "4"]}
    )  # fmt: skip
    head = pd.DataFrame(
        {"Status": ["good", "bad", "bad"], "Age": ["30", "?x", "n/a"],
         "Home": ["rent", "own", "rent"], "New": ["a", "b", "c"]}
    )  # fmt: skip
    change = R.data_change("data/raw/credit.csv", base, head, R.Reading("Status", "bad"))
    assert (change.rows_base, change.rows_head) == (4, 3)
    assert change.added == ["New"] and change.removed == ["Old"]
    assert change.retyped == {"Age": ("numeric", "categorical")}
    assert change.rate_base == 0.25 and change.rate_head == pytest.approx(2 / 3)
    text = R.data_change_section(change)
    assert "rows 4 → 3 (-1)" in text
    assert "- columns added: New" in text and "- columns removed: Old" in text
    assert "- type changes: Age (numeric → categorical)" in text
    assert "- target rate: 0.25 → 0.6667" in text


def test_data_change_new_file_and_bad_target():
    """A file new in head; a target that is not there gives no rate."""
    head = pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"]})
    change = R.data_change("d.csv", None, head, R.Reading("Status", "bad"))
    assert change.rows_base is None and change.rate_head is None
    assert "is new in head: 2 rows" in R.data_change_section(change)


def test_rows_dropped_and_income_rescaled_show_income_and_the_moved_split():
    """The issue's branch (issue 25's example): row by row, Income changed in every edited row
    that has an income (x 1.10) and no other column beyond the 300 removed rows; as samples,
    Income is the one shifted column (PSI near zero, KS significant, mean +3 %); the row split
    at 2,479 now has 300 base-current rows in reference."""
    base, head = edited_credit_data()
    reading = R.Reading("Status", "bad", DriftConfig(), (2479, 2479))
    change = R.data_change("data/raw/credit_data.csv", base, head, reading)
    moved = [item for item in change.shifts if item.shifted]
    assert [item.column for item in moved] == ["Income"]
    income = moved[0]
    assert income.verdict == "warning" and income.psi < 0.01 and income.p_value < 0.05
    assert income.mean_head / income.mean_base == pytest.approx(1.031, abs=0.002)
    assert change.split == R.SplitMove(2479, 2479, 300, 0, 300, 0)
    edited = int((pd.to_numeric(base["Income"]).loc[3001:].notna()).sum())
    assert edited == 1321  # of the 1,454 rows from 3,001 on, 133 have no income to rescale
    values = change.values
    assert values is not None and not values.key
    assert (values.removed, values.added, values.reordered, values.edited) == (300, 0, 0, edited)
    text = R.data_change_section(change)
    assert "rows 4,454 → 4,154 (-300)" in text
    which, distribution = text.split("#### Which values changed?")[1].split(
        "#### Did the distribution move?"
    )
    assert (
        "\n- `Income`: 1,321 rows changed (median × 1.10; 0 set missing)\n- 300 rows removed, 0 "
        "added, 0 reordered, 1,321 edited; no other column changed (13 of 14 compared).\n"
    ) in which
    assert "KS / χ² test" not in which and "`Income` | 🟠 warning" in distribution
    assert (
        "| `Income` | 🟠 warning | 0.0051 | 0.0179 | 8.55 % → 8.76 % | 141.7 → 146.1 (+3.1 %)"
        in (text)
    )
    assert "12 other column(s): no detectable shift." in text
    assert (
        "⚠️ **The row split moved**: `data.split` starts the current part at row 2,479; 300 "
        in (text)
    )
    assert "so 300 row(s) that were current in base are reference in head and 0 went" in text


def test_categories_and_missing_rates():
    """New and vanished categories and a missing-rate jump are listed, even without a
    significant test; unchanged columns are counted, not listed."""
    rng = np.random.default_rng(5)
    rows = 600
    base = pd.DataFrame(
        {
            "Status": rng.choice(["good", "bad"], rows),
            "Home": rng.choice(["rent", "owner", "other"], rows, p=[0.45, 0.45, 0.1]),
            "Age": rng.integers(20, 70, rows).astype(str),
            "Amount": rng.integers(100, 5000, rows).astype(str),
        }
    ).astype(object)
    head = base.copy()
    head.loc[head["Home"] == "other", "Home"] = "gig"
    head.loc[:59, "Age"] = np.nan
    change = R.data_change("d.csv", base, head, R.Reading("Status", "bad"))
    shifted = {item.column: item for item in change.shifts if item.shifted}
    assert set(shifted) == {"Home", "Age"}
    assert shifted["Home"].new == ["gig"] and shifted["Home"].vanished == ["other"]
    assert shifted["Home"].mean_base is None
    assert shifted["Age"].missing_head == pytest.approx(0.1) and shifted["Age"].missing_base == 0
    assert change.split is None and change.values is not None
    recoded = int((base["Home"] == "other").sum())
    assert recoded < 60 and [edit.column for edit in change.values.edits] == ["Age", "Home"]
    text = R.data_change_section(change)
    assert f"- `Home`: {recoded} rows recoded (other → gig: {recoded})\n" in text
    assert "- `Age`: 60 values set missing\n" in text
    assert "| `Home` |" in text and "| `gig` | `other` |" in text
    assert "| 0.00 % → 10.00 % |" in text
    assert "1 other column(s): no detectable shift." in text


def test_no_shift_and_long_category_lists():
    """Identical columns: one sentence; more than five new categories are counted."""
    base = pd.DataFrame({"y": ["1", "0"] * 300, "a": [str(i % 7) for i in range(600)]})
    assert R.shifts_table(R.data_change("d.csv", base, base, R.Reading("y", "1")).shifts) == (
        "No column shifted detectably (1 compared: the base and head files as two samples, "
        "KS / χ² test of `kaizen.drift`)."
    )
    levels = [f"L{i}" for i in range(8)]
    assert R._levels(levels) == "`L0`, `L1`, `L2`, `L3`, `L4` (+3 more)"  # pylint: disable=W0212
    zero = R.ColumnShift("x", "numeric", "stable", 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    assert R._mean_change(zero) == "0 → 1"  # pylint: disable=protected-access


def test_key_rows_and_errors():
    """data.key matches rows by id; a key column missing in head is a one-line error naming
    data.key; missing in base, rows are matched by content and the section says so."""
    base = pd.DataFrame({"Id": ["a", "b", "c"], "y": ["1", "0", "1"], "x": ["1", "2", "3"]})
    head = base.iloc[[2, 0, 1]].assign(x=["30", "1", "2"])
    change = R.data_change("d.csv", base, head, R.Reading("y", "1", key=("Id",)))
    assert change.values is not None and change.values.key == ["Id"]
    text = R.data_change_section(change)
    assert "Base and head compared row by row: rows matched by `data.key` (`Id`)." in text
    assert "- `x`: 1 row changed (median × 10.00; 0 set missing)" in text
    with pytest.raises(KaizenError) as caught:
        R.data_change("d.csv", base, head, R.Reading("y", "1", key=("Id", "Branch")))
    assert str(caught.value) == "params.yaml: data.key: no such column 'Branch' in d.csv"
    change = R.data_change("d.csv", base.drop(columns="Id"), head, R.Reading("y", "1", key=("Id",)))
    assert "`data.key` column(s) `Id` not in base: rows matched by content instead." in (
        R.data_change_section(change)
    )
    other = pd.DataFrame({"z": ["1", "2"]})
    assert R.data_change("d.csv", base, other, R.Reading("y", "1")).values is None
    twice = pd.concat([head, head.iloc[:1]], ignore_index=True)
    change = R.data_change("d.csv", base, twice, R.Reading("y", "1", key=("Id",)))
    assert "⚠️ `data.key` does not identify rows: 1 head row(s) repeat an earlier key" in (
        R.data_change_section(change)
    )


def test_split_move():
    """Rows added above the split push reference rows into current; a changed start alone says
    so; unchanged parts, or a side not split by row, give None."""
    base = np.arange(10)
    assert R.split_move(base, base, (4, 4)) is None
    assert R.split_move(base, base, (None, 4)) is None
    added = np.concatenate([[100, 101], base])
    move = R.split_move(base, added, (4, 4))
    assert move == R.SplitMove(4, 4, removed_above=0, added_above=2, to_reference=0, to_current=2)
    assert "0 row(s) were removed and 2 added above it upstream" in R.split_sentence(move)
    moved = R.split_move(base, base, (4, 6))
    assert moved == R.SplitMove(4, 6, 0, 0, to_reference=2, to_current=0)
    assert "at row 4 in base, 6 in head; its start row changed, so 2 row(s)" in (
        R.split_sentence(moved)
    )


# --- assembly ----------------------------------------------------------------------------------
