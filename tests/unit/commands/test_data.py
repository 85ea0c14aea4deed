"""data add, the pure parts: params.yaml round trip, split options, file names, Parquet input."""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

import pytest
import yaml

from kaizen import KaizenError
from kaizen.io import files
from kaizen.commands import data as C

ROOT = Path(__file__).resolve().parents[3]
PARAMS = (ROOT / "params.yaml").read_text(encoding="utf-8")
# params.yaml as it was before data.split: the deprecated key with its two-line comment.
OLD = PARAMS.replace(
    PARAMS[PARAMS.index("  split: {by: row") : PARAMS.index("\n\nprepare:")],
    "  current_start: 2479       # current part: 1-based data row where it starts, a share "
    "such as\n"
    "                            # 0.3 (last 30 % of rows), or none (no current part)",
)


def changed_lines(before: str, after: str) -> list[str]:
    """The -/+ lines of a diff, removed lines first."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    lines = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return sorted(lines, key=lambda line: line[0] == "+")


def test_edit_params_round_trip_keeps_everything_else():
    """No change gives the file back byte for byte (comments, nulls, quotes, list style)."""
    assert C.edit_params(PARAMS, {}) == PARAMS
    assert C.edit_params(PARAMS, {"separator": ",", "split": {"by": "row", "start": 2479}}) == (
        PARAMS
    )


def test_edit_params_sets_data_keys_only():
    """Only the changed data.* lines differ; their comments stay; the result loads."""
    updates = {
        "path": "data/raw/loans.csv",
        "positive": 1,
        "columns": {"id": "drop"},
        "split": {"by": "share", "current": 0.3},
    }
    text = C.edit_params(PARAMS, updates)
    assert changed_lines(PARAMS, text) == [
        "-  path: data/raw/credit_data.csv",
        "-  positive: bad             # the target value that means default (1 for a 0/1 target)",
        "-  columns: {}               # type overrides, e.g. {Records: categorical, Id: drop}",
        "-  split: {by: row, start: 2479}   # the current (out-of-time) part: from a 1-based data "
        "row on;",
        "+  path: data/raw/loans.csv",
        "+  positive: 1               # the target value that means default (1 for a 0/1 target)",
        "+  columns: {id: drop}       # type overrides, e.g. {Records: categorical, Id: drop}",
        "+  split: {by: share, current: 0.3} # the current (out-of-time) part: from a 1-based "
        "data row on;",
    ]
    data = yaml.safe_load(text)["data"]
    assert {key: data[key] for key in updates} == updates


def test_edit_params_migrates_current_start():
    """The deprecated key becomes data.split in its place, with a comment saying so."""
    text = C.edit_params(OLD, {"split": {"by": "share", "current": 0.3}}, ("current_start",))
    assert changed_lines(OLD, text) == [
        "-  current_start: 2479       # current part: 1-based data row where it starts, a share "
        "such as",
        "-                            # 0.3 (last 30 % of rows), or none (no current part)",
        "+  split: {by: share, current: 0.3} # replaces current_start (migrated by kaizen data "
        "add)",
    ]
    data = yaml.safe_load(text)["data"]
    assert "current_start" not in data and list(data)[-1] == "split"
    bare = OLD.replace(OLD[OLD.index("  current_start") : OLD.index("\n\nprepare:")], "  x: 1")
    assert C.edit_params(bare, {}, ("current_start",)) == bare
    last = "data:\n  path: a.csv\n  current_start: 0.3\n"
    assert C.edit_params(last, {"split": {"by": "none"}}, ("current_start",)) == (
        "data:\n  path: a.csv\n  split: {by: none}  # replaces current_start (migrated by kaizen "
        "data add)\n"
    )


def args(**given) -> argparse.Namespace:
    """Parsed `data add` options (none given by default)."""
    base = {
        "path": "new.csv",
        "split_row": None,
        "split_share": None,
        "split_date": None,
        "no_split": False,
        "date_format": None,
        "current_from": None,
    }
    return argparse.Namespace(**{**base, **given})


DATE = {"by": "date", "column": "m", "format": "%b-%Y", "current_from": "2018-03"}


@pytest.mark.parametrize(
    ("given", "current", "expected"),
    [
        ({"split_row": 10}, {}, {"by": "row", "start": 10}),
        ({"split_share": 0.25}, {"split": DATE}, {"by": "share", "current": 0.25}),
        (
            {"split_date": "m", "date_format": "%b-%Y", "current_from": "2018-03"},
            {},
            DATE,
        ),
        (
            {"split_date": "day", "current_from": "2020-01-01"},
            {},
            {"by": "date", "column": "day", "current_from": "2020-01-01"},
        ),
        ({"no_split": True}, {"split": {"by": "row", "start": 9}}, {"by": "none"}),
        ({}, {"split": DATE}, DATE),
        ({}, {"split": {"by": "share", "current": 0.3}}, {"by": "share", "current": 0.3}),
        ({}, {"current_start": 0.3}, {"by": "share", "current": 0.3}),
        ({}, {"current_start": "none"}, {"by": "none"}),
        ({}, {}, {"by": "none"}),
    ],
)
def test_split_option(given, current, expected):
    """An option wins; without one a date, share or no split carries over to the snapshot."""
    assert C.split_option(args(**given), current) == expected


@pytest.mark.parametrize(
    ("given", "current", "problem"),
    [
        ({}, {"split": {"by": "row", "start": 2479}}, "new.csv: say how to split this snapshot"),
        ({}, {"current_start": 2479}, "the row split {by: row, start: 2479} of params.yaml"),
        ({"split_share": 1.5}, {}, "--split-share: Input should be less than 1"),
        ({"split_row": 1}, {}, "--split-row: Input should be greater than or equal to 2"),
        ({"split_date": "m"}, {}, "--split-date needs --current-from DATE"),
        ({"current_from": "2018-03"}, {}, "--date-format and --current-from go with --split-date"),
        (
            {"split_date": "m", "current_from": "March"},
            {},
            "--current-from: Value error, 'March' is not an ISO date",
        ),
    ],
)
def test_split_option_errors(given, current, problem):
    """A row split never carries over silently; bad values name their option."""
    with pytest.raises(KaizenError) as caught:
        C.split_option(args(**given), current)
    assert problem in str(caught.value)


def test_typed_value():
    """A whole number is a number (0/1 targets), anything else text."""
    assert C.typed_value("1") == 1 and C.typed_value("-1") == -1
    assert C.typed_value("bad") == "bad" and C.typed_value("1.0") == "1.0"


def test_destination():
    """data/raw/<name>; Parquet becomes a CSV name; --name must be a plain file name."""
    assert C.destination(Path("/x/loans.csv"), None) == Path("data/raw/loans.csv")
    assert C.destination(Path("events.parquet"), None) == Path("data/raw/events.csv")
    assert C.destination(Path("a.csv"), "b.csv") == Path("data/raw/b.csv")
    for name in ("../b.csv", "sub/b.csv", ".hidden.csv"):
        with pytest.raises(KaizenError, match=r"^--name: .* is not a plain file name$"):
            C.destination(Path("a.csv"), name)


def test_restored_on_error(tmp_path):
    """A failing block gets a replaced file back and a new file removed; success keeps both;
    no backup is left either way."""
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("before", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with files.restored_on_error(old), files.restored_on_error(new):
            with files.atomic_path(old) as tmp:
                tmp.write_text("after", encoding="utf-8")
            new.write_text("created", encoding="utf-8")
            raise RuntimeError("boom")
    assert old.read_text(encoding="utf-8") == "before" and not new.exists()
    with files.restored_on_error(old), files.restored_on_error(new):
        old.write_text("after", encoding="utf-8")
        new.write_text("created", encoding="utf-8")
    assert old.read_text(encoding="utf-8") == "after" and new.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "old.txt"]
