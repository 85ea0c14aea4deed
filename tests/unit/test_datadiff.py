"""Raw data changes between two revisions."""

from __future__ import annotations

import pytest
import pandas as pd

from kaizen import datadiff as R


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
    change = R.data_change("data/raw/credit.csv", base, head, "Status", "bad")
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
    change = R.data_change("d.csv", None, head, "Status", "bad")
    assert change.rows_base is None and change.rate_head is None
    assert "is new in head: 2 rows" in R.data_change_section(change)


# --- assembly ----------------------------------------------------------------------------------
