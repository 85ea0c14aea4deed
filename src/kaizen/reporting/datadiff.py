"""What changed in the raw data file between two revisions: rows, columns, types, target rate,
which values changed (row by row, `kaizen.valuediff`), the shift inside each column, and whether
a row-number split now cuts other rows.

Two questions, kept apart. "Which values changed?" pairs the rows and counts the changed cells:
it names a column edited in a quarter of the rows even when its distribution barely moves. "Did
the distribution move?" compares the two files as samples: column shifts use the drift code
(`kaizen.drift`) between the base's and the head's whole raw file, with its KS (numeric) /
chi-squared (categorical) test for the verdict and PSI for the size. Both files mostly share
their rows, which makes the test conservative: a flagged column changed beyond what resampling
the same population would do, and a column edited in few rows may not be flagged at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from kaizen import KaizenError
from kaizen.config import DriftConfig
from kaizen.pipeline.data import column_kind, encode_target
from kaizen.drift.verdicts import DRIFT, WARNING, categorical_drift, numeric_drift
from kaizen.format import VERDICT_ICONS, fmt
from kaizen.reporting.rowmatch import frame_chunks, hash_rows
from kaizen.reporting.valuediff import ValueDiff, value_diff, value_lines

MISSING_CHANGE = 0.01  # a missing-rate change of one percentage point is listed
CATEGORIES_SHOWN = 5


def target_rate(frame: pd.DataFrame, target: str, positive: object) -> float | None:
    """Share of positive rows, or None when the target is absent or unusable."""
    if target not in frame.columns:
        return None
    try:
        return float(encode_target(frame[target], str(positive), target, "data").mean())
    except KaizenError:
        return None


@dataclass(frozen=True)
class ColumnShift:  # pylint: disable=too-many-instance-attributes
    """How one column's values moved between the base and the head file."""

    column: str
    kind: str
    verdict: str
    psi: float | None
    p_value: float | None
    missing_base: float | None
    missing_head: float | None
    mean_base: float | None = None
    mean_head: float | None = None
    new: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)

    @property
    def shifted(self) -> bool:
        """Worth a row in the report: a detectable shift, categories or missing rate moved."""
        missing = abs((self.missing_head or 0.0) - (self.missing_base or 0.0))
        return (
            self.verdict in (DRIFT, WARNING)
            or bool(self.new or self.vanished)
            or missing >= MISSING_CHANGE
        )


@dataclass(frozen=True)
class SplitMove:
    """A row-number split whose parts hold other rows because rows changed above it."""

    start_base: int
    start_head: int
    removed_above: int  # base rows before the split that are nowhere in head
    added_above: int  # head rows before the split that are nowhere in base
    to_reference: int  # rows current in base, reference in head
    to_current: int  # rows reference in base, current in head


@dataclass(frozen=True)
class DataChange:  # pylint: disable=too-many-instance-attributes
    """How the raw data file changed between base and head."""

    path: str
    rows_base: int | None
    rows_head: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)
    rate_base: float | None = None
    rate_head: float | None = None
    base_path: str | None = None  # when params moved the data to another file
    shifts: list[ColumnShift] = field(default_factory=list)  # every shared column, by severity
    values: ValueDiff | None = None
    split: SplitMove | None = None


def _numbers(values: pd.Series) -> pd.Series:
    """Raw strings as floats (text and missing -> NaN)."""
    return pd.to_numeric(values.str.strip(), errors="coerce")


def column_shift(name: str, kind: str, base: pd.Series, head: pd.Series, config: DriftConfig):
    """The drift code's statistics of one raw column, base -> head (test-based verdict)."""
    # The test decides here, PSI only sizes: a data change is worth naming even below the drift
    # stage's effect floor (a 3 % rescale of part of a column is detectable, and it is news).
    tested = config.model_copy(
        update={"numeric_method": "ks", "categorical_method": "chi2", "psi_warning": 1e-9}
    )
    mean_base = mean_head = None
    vanished: list[str] = []
    if kind == "numeric":
        old, new = _numbers(base), _numbers(head)
        result = numeric_drift(name, old, new, tested)
        mean_base, mean_head = _mean(old), _mean(new)
    else:
        old, new = base.str.strip(), head.str.strip()
        result = categorical_drift(name, old, new, tested)
        vanished = sorted(set(old.dropna().map(str)) - set(new.dropna().map(str)))
    return ColumnShift(
        column=name,
        kind=kind,
        verdict=result.verdict,
        psi=result.psi,
        p_value=result.p_value,
        missing_base=result.missing_reference,
        missing_head=result.missing_current,
        mean_base=mean_base,
        mean_head=mean_head,
        new=list(result.unseen),
        vanished=vanished,
    )


def _mean(values: pd.Series) -> float | None:
    """Mean of the present values, None when there are none."""
    present = values.dropna()
    return float(present.mean()) if len(present) else None


def split_move(
    base: np.ndarray, head: np.ndarray, starts: tuple[int | None, int | None]
) -> SplitMove | None:
    """How a row-number split's parts changed with the rows above it; None when they did not
    (or when either side is not split by row number). `base`/`head` are row hashes."""
    if None in starts:
        return None
    start_base, start_head = starts
    assert start_base is not None and start_head is not None  # for mypy
    old_ref, old_cur = Counter(base[: start_base - 1]), Counter(base[start_base - 1 :])
    new_ref, new_cur = Counter(head[: start_head - 1]), Counter(head[start_head - 1 :])
    move = SplitMove(
        start_base,
        start_head,
        removed_above=(old_ref - Counter(head)).total(),
        added_above=(new_ref - Counter(base)).total(),
        to_reference=(new_ref & old_cur).total(),
        to_current=(new_cur & old_ref).total(),
    )
    return move if move.to_reference or move.to_current else None


@dataclass(frozen=True)
class Reading:
    """How the revisions read their raw data: the head's target, positive value, drift
    thresholds and row key (`data.key`), and the 1-based data row where a row split starts
    current in base and in head (None on a side that does not split by row number)."""

    target: str
    positive: object
    drift: DriftConfig = DriftConfig()
    row_starts: tuple[int | None, int | None] = (None, None)
    key: tuple[str, ...] = ()


def data_change(
    path: str,
    base: pd.DataFrame | None,
    head: pd.DataFrame,
    reading: Reading,
    base_path: str | None = None,
) -> DataChange:
    """Compare two raw frames (strings, as read by `tables.read_raw`); `base` None = new file."""
    target, positive = reading.target, reading.positive
    if base is None:
        return DataChange(path, None, len(head), rate_head=target_rate(head, target, positive))
    shared = [name for name in head.columns if name in base.columns and name != target]
    retyped, shifts, types = {}, [], {target: "categorical"}
    for name in shared:
        kinds = column_kind(base[name]), column_kind(head[name])
        types[name] = kinds[1] if kinds[0] == kinds[1] else "categorical"
        if kinds[0] != kinds[1]:
            retyped[name] = kinds
        elif kinds[0] != "empty":
            shifts.append(column_shift(name, kinds[0], base[name], head[name], reading.drift))
    values, split = compare_rows(path, (base, head), reading, types)
    return DataChange(
        path,
        len(base),
        len(head),
        added=[name for name in head.columns if name not in base.columns],
        removed=[name for name in base.columns if name not in head.columns],
        retyped=retyped,
        rate_base=target_rate(base, target, positive),
        rate_head=target_rate(head, target, positive),
        base_path=base_path if base_path != path else None,
        shifts=sorted(shifts, key=lambda item: (not item.shifted, -(item.psi or 0.0))),
        values=values,
        split=split,
    )


def compare_rows(
    path: str, frames: tuple[pd.DataFrame, pd.DataFrame], reading: Reading, kinds: dict[str, str]
) -> tuple[ValueDiff | None, SplitMove | None]:
    """Which values changed (over the shared columns), and whether the row split moved (when
    no column was added or removed); (None, None) when the files share no column."""
    base, head = frames
    common = [name for name in head.columns if name in base.columns]
    if not common:
        return None, None
    key, note = row_key(reading.key, base.columns, head.columns, path)
    sides = frame_chunks(base), frame_chunks(head)
    hashed = hash_rows(sides[0], common, key), hash_rows(sides[1], common, key)
    values = replace(value_diff(*sides, common, key=key, kinds=kinds, hashed=hashed), note=note)
    if common != list(head.columns):
        return values, None
    return values, split_move(hashed[0].rows, hashed[1].rows, reading.row_starts)


def row_key(
    key: tuple[str, ...], base: pd.Index, head: pd.Index, path: str
) -> tuple[list[str], str]:
    """The key columns rows are matched by, and a note when the base lacks them; a key column
    the head lacks is an error naming `data.key`."""
    for name in key:
        if name not in head:
            raise KaizenError(f"params.yaml: data.key: no such column {name!r} in {path}")
    absent = [name for name in key if name not in base]
    if absent:
        names = ", ".join(f"`{name}`" for name in absent)
        return [], f"`data.key` column(s) {names} not in base: rows matched by content instead."
    return list(key), ""


def data_change_section(change: DataChange) -> str:
    """Markdown for a changed raw data file."""
    lines = ["### Raw data changed", ""]
    if change.rows_base is None:
        lines.append(f"`{change.path}` is new in head: {change.rows_head:,} rows.")
        return "\n".join(lines)
    delta = change.rows_head - change.rows_base
    source = f"`{change.base_path}` (base) → " if change.base_path else ""
    lines.append(
        f"{source}`{change.path}` differs from base: rows {change.rows_base:,} → "
        f"{change.rows_head:,} ({delta:+,})."
    )
    lines.append("")
    lines.append(f"- columns added: {', '.join(change.added) or 'none'}")
    lines.append(f"- columns removed: {', '.join(change.removed) or 'none'}")
    retyped = ", ".join(f"{name} ({a} → {b})" for name, (a, b) in change.retyped.items())
    lines.append(f"- type changes: {retyped or 'none'}")
    if change.rate_base is not None or change.rate_head is not None:
        lines.append(f"- target rate: {fmt(change.rate_base)} → {fmt(change.rate_head)}")
    if change.values is not None:
        lines += ["", values_block(change.values)]
    if change.split:
        lines += ["", split_sentence(change.split)]
    if change.shifts:
        lines += ["", "#### Did the distribution move?", "", shifts_table(change.shifts)]
    return "\n".join(lines)


def values_block(values: ValueDiff) -> str:
    """'Which values changed': how the rows were matched, then one line per changed column."""
    if values.key:
        how = "rows matched by `data.key` (" + ", ".join(f"`{k}`" for k in values.key) + ")"
    else:
        how = (
            "identical rows matched wherever they are, edited rows paired within each stretch "
            "between them, as a line diff does (`data.key` names an id column to match by)"
        )
    lines = ["#### Which values changed?", "", f"Base and head compared row by row: {how}."]
    if values.note:
        lines.append(values.note)
    if values.duplicate_keys:
        lines.append(
            f"⚠️ `data.key` does not identify rows: {values.duplicate_keys:,} head row(s) repeat "
            "an earlier key (rows with one key are paired in file order)."
        )
    return "\n".join(lines + [""] + value_lines(values))


def split_sentence(move: SplitMove) -> str:
    """The warning that a row-number split now cuts other rows."""
    start = (
        f"row {move.start_base:,}"
        if move.start_base == move.start_head
        else f"row {move.start_base:,} in base, {move.start_head:,} in head"
    )
    cause = (
        f"{move.removed_above:,} row(s) were removed and {move.added_above:,} added above it "
        "upstream"
        if move.removed_above or move.added_above
        else "its start row changed"
    )
    return (
        f"⚠️ **The row split moved**: `data.split` starts the current part at {start}; "
        f"{cause}, so {move.to_reference:,} row(s) that were current in base are reference in "
        f"head and {move.to_current:,} went the other way: reference and current are not the "
        "same rows as in base (a date split, `data.split: {by: date, …}`, keeps them)."
    )


def shifts_table(shifts: list[ColumnShift]) -> str:
    """The columns whose values moved (KS / chi-squared verdict, PSI, missing, categories)."""
    moved = [item for item in shifts if item.shifted]
    quiet = len(shifts) - len(moved)
    if not moved:
        return (
            f"No column shifted detectably ({quiet} compared: the base and head files as two "
            "samples, KS / χ² test of `kaizen.drift`)."
        )
    rows = [
        "The base and head files as two samples, column by column (`kaizen.drift`: KS / χ² "
        "test for the verdict, PSI for the size):",
        "",
        "| column | verdict | PSI | p-value | missing | mean | new categories | vanished |",
        "|---|---|--:|--:|---|---|---|---|",
    ]
    for item in moved:
        icon = VERDICT_ICONS.get(item.verdict, "")
        missing = f"{_percent(item.missing_base)} → {_percent(item.missing_head)}"
        rows.append(
            f"| `{item.column}` | {icon} {item.verdict} | {fmt(item.psi)} | {fmt(item.p_value)} "
            f"| {missing} | {_mean_change(item)} | {_levels(item.new)} | "
            f"{_levels(item.vanished)} |"
        )
    if quiet:
        rows += ["", f"{quiet} other column(s): no detectable shift."]
    return "\n".join(rows)


def _percent(value: float | None) -> str:
    """0.0855 -> '8.55 %'."""
    return "–" if value is None else f"{value * 100:.2f} %"


def _mean_change(item: ColumnShift) -> str:
    """'141.7 → 146.1 (+3.1 %)' for numeric columns, '' otherwise."""
    if item.mean_base is None or item.mean_head is None:
        return ""
    text = f"{item.mean_base:,.4g} → {item.mean_head:,.4g}"
    if item.mean_base:
        text += f" ({(item.mean_head / item.mean_base - 1) * 100:+.1f} %)"
    return text


def _levels(names: list[str]) -> str:
    """Up to CATEGORIES_SHOWN names, then a count."""
    shown = ", ".join(f"`{name}`" for name in names[:CATEGORIES_SHOWN])
    more = len(names) - CATEGORIES_SHOWN
    return shown + (f" (+{more} more)" if more > 0 else "")
