"""Which values a data change touched: rows removed, added and reordered, and for each column how
many rows changed value, with the typical change of numbers and the top recodings of categories.

A distribution test answers "did the column move?"; a reviewer of a data pull request first asks
"which values did this change touch?", which only a row-by-row comparison answers. Rows pair up
(`reporting.rowmatch`) in three steps:

1. identical rows (a 64-bit hash of the whole row over the shared columns) pair as a multiset,
   the k-th copy in base with the k-th copy in head; those outside the longest in-order run of
   them were reordered;
2. with a key (`data.key`), the other rows pair by key;
3. without one, the in-order identical rows cut both files into hunks, as a line diff does; in a
   hunk, a base row and a head row that differ in one column only pair first, then rows that
   agree on more than half of the columns, then the rest in file order when both sides hold as
   many; the others count as removed and added (so does a row both moved and edited: a key
   finds it).

Only paired rows are compared, cell by cell. The files are read as chunks, three times (the hash
of every row; column hashes of the rows step 1 left; the values of the changed cells), so memory
holds 8 bytes per row and file, 8 bytes per column of each unmatched row, and the changed values:
never a whole frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from kaizen.pipeline.data import column_kind
from kaizen.reporting.rowmatch import (
    Chunks,
    Hashed,
    gather_hashes,
    hash_rows,
    in_order,
    multiset_pairs,
    pair_in_hunks,
)

TRANSITIONS_SHOWN = 3


def gather_values(chunks: Chunks, wanted: dict[str, np.ndarray]) -> dict[str, pd.Series]:
    """Pass 3: the values of each column at its own rows (any order), as strings."""
    order = {name: np.argsort(rows, kind="stable") for name, rows in wanted.items()}
    ordered = {name: rows[order[name]] for name, rows in wanted.items()}
    parts: dict[str, list[pd.Series]] = {name: [] for name in wanted}
    offset = 0
    for chunk in chunks():
        for name, rows in ordered.items():
            low, high = np.searchsorted(rows, [offset, offset + len(chunk)])
            parts[name].append(chunk[name].iloc[rows[low:high] - offset].reset_index(drop=True))
        offset += len(chunk)
    out = {}
    for name, pieces in parts.items():
        values = pd.concat(pieces, ignore_index=True) if pieces else pd.Series(dtype=object)
        back = np.empty(len(values), np.int64)
        back[order[name]] = np.arange(len(values))
        out[name] = values.iloc[back].reset_index(drop=True)
    return out


@dataclass(frozen=True)
class ColumnEdit:  # pylint: disable=too-many-instance-attributes
    """How one column's values changed in the paired rows."""

    column: str
    kind: str  # numeric | categorical
    rows: int  # paired rows whose value in this column changed
    set_missing: int = 0
    filled: int = 0  # missing in base, a value in head
    ratio: float | None = None  # median head / base of the changed numbers
    difference: float | None = None  # median head - base
    by_ratio: bool = True  # the ratio describes the edit better than the difference
    transitions: list[tuple[str, str, int]] = field(default_factory=list)  # top recodings
    other_transitions: int = 0  # rows in the recodings not shown


@dataclass(frozen=True)
class ValueDiff:  # pylint: disable=too-many-instance-attributes
    """The row-by-row comparison of two files."""

    compared: list[str]  # the shared columns
    key: list[str]  # the columns rows were matched by (empty: by content and position)
    removed: int
    added: int
    reordered: int  # rows outside the longest in-order run of the matched ones (identical
    # rows; with a key, every row paired)
    edited: int  # paired rows with at least one changed value
    edits: list[ColumnEdit] = field(default_factory=list)  # most rows first
    duplicate_keys: int = 0  # head rows whose key an earlier head row already has
    note: str = ""


def column_edit(name: str, base: pd.Series, head: pd.Series, kind: str | None = None):
    """Summarise the changed cells of one column (`base[i]` became `head[i]`)."""
    gone, new = base.isna().to_numpy(), head.isna().to_numpy()
    both = ~gone & ~new
    if kind is None:
        kind = column_kind(pd.concat([base, head], ignore_index=True))
    edit = ColumnEdit(name, kind, len(base), int((~gone & new).sum()), int((gone & ~new).sum()))
    old = base[both].astype(str).str.strip().reset_index(drop=True)
    now = head[both].astype(str).str.strip().reset_index(drop=True)
    if kind == "numeric":
        numbers = pd.to_numeric(old, errors="coerce"), pd.to_numeric(now, errors="coerce")
        return _numbers(edit, *numbers)
    counts = pd.DataFrame({"old": old, "new": now}).value_counts().sort_index()
    counts = counts.sort_values(ascending=False, kind="stable")  # most frequent, then by name
    return replace(
        edit,
        kind="categorical",
        transitions=[(a, b, int(n)) for (a, b), n in counts.iloc[:TRANSITIONS_SHOWN].items()],
        other_transitions=int(counts.iloc[TRANSITIONS_SHOWN:].sum()),
    )


def _numbers(edit: ColumnEdit, old: pd.Series, new: pd.Series) -> ColumnEdit:
    """The typical change of the numbers: median ratio or median difference, whichever varies
    less around its own effect (a rescale has one ratio, a shift one difference)."""
    valid = old.notna().to_numpy() & new.notna().to_numpy()
    x, y = old.to_numpy(float)[valid], new.to_numpy(float)[valid]
    if x.size == 0:
        return edit
    difference = y - x
    ratio = y[x != 0] / x[x != 0]
    by_ratio = len(ratio) > 0 and _spread(ratio, 1.0) <= _spread(difference, 0.0)
    return replace(
        edit,
        ratio=float(np.median(ratio)) if len(ratio) else None,
        difference=float(np.median(difference)),
        by_ratio=by_ratio,
    )


def _spread(values: np.ndarray, none: float) -> float:
    """Median absolute deviation relative to the median's distance from `none` (no change)."""
    centre = float(np.median(values))
    effect = abs(centre - none)
    return float(np.median(np.abs(values - centre))) / effect if effect else np.inf


def value_diff(  # pylint: disable=too-many-arguments,too-many-locals
    base: Chunks,
    head: Chunks,
    columns: list[str],
    *,
    key: list[str] | None = None,
    kinds: dict[str, str] | None = None,
    hashed: tuple[Hashed, Hashed] | None = None,
) -> ValueDiff:
    """Compare two files row by row over the shared `columns` (see the module docstring);
    `kinds` gives columns' types (others are inferred from their changed values), `hashed` the
    rows' hashes when the caller already has them."""
    key = key or []
    hash_b, hash_h = hashed or (hash_rows(base, columns, key), hash_rows(head, columns, key))
    same_b, same_h = multiset_pairs(hash_b.rows, hash_h.rows)
    order = np.argsort(same_b)
    same_b, same_h = same_b[order], same_h[order]
    kept = in_order(same_h)
    loose_b = _others(len(hash_b.rows), same_b)
    loose_h = _others(len(hash_h.rows), same_h)
    cells = (
        gather_hashes(base, columns, loose_b),
        gather_hashes(head, columns, loose_h),
    )
    if key:
        assert hash_b.keys is not None and hash_h.keys is not None  # for mypy
        pair_b, pair_h = multiset_pairs(hash_b.keys[loose_b], hash_h.keys[loose_h])
        every = np.r_[same_b, loose_b[pair_b]], np.r_[same_h, loose_h[pair_h]]
        kept = in_order(every[1][np.argsort(every[0])])  # edited rows can move too
    else:
        hunks = (
            np.searchsorted(same_b[kept], loose_b),
            np.searchsorted(same_h[kept], loose_h),
        )
        pair_b, pair_h = pair_in_hunks(hunks, cells)
    changed = cells[0][pair_b] != cells[1][pair_h]  # pairs x columns
    edited = changed.any(axis=1)
    wanted = [(name, changed[:, at]) for at, name in enumerate(columns) if changed[:, at].any()]
    old = gather_values(base, {name: loose_b[pair_b[rows]] for name, rows in wanted})
    new = gather_values(head, {name: loose_h[pair_h[rows]] for name, rows in wanted})
    edits = [column_edit(name, old[name], new[name], (kinds or {}).get(name)) for name, _ in wanted]
    return ValueDiff(
        compared=list(columns),
        key=key,
        removed=len(loose_b) - len(pair_b),
        added=len(loose_h) - len(pair_h),
        reordered=int(len(kept) - kept.sum()),
        edited=int(edited.sum()),
        edits=sorted(edits, key=lambda item: -item.rows),
        duplicate_keys=_duplicates(hash_h.keys),
    )


def _others(size: int, taken: np.ndarray) -> np.ndarray:
    """The sorted positions below `size` not in `taken`."""
    free = np.ones(size, bool)
    free[taken] = False
    return np.flatnonzero(free)


def _duplicates(keys: np.ndarray | None) -> int:
    """Rows whose key an earlier row already has."""
    return 0 if keys is None else int(len(keys) - len(np.unique(keys)))


# --- sentences ---------------------------------------------------------------------------------
COLUMNS_SHOWN = 15


def edit_sentence(edit: ColumnEdit) -> str:
    """'`Income`: 1,451 rows changed (median × 1.10; 0 set missing)', '`Home`: 412 rows recoded
    (own → rent: 412)', '`Debt`: 37 values set missing'."""
    name, both = f"`{edit.column}`", edit.rows - edit.set_missing - edit.filled
    if not both and not edit.filled:
        return f"{name}: {_count(edit.set_missing, 'value')} set missing"
    if not both and not edit.set_missing:
        return f"{name}: {_count(edit.filled, 'missing value')} filled in"
    missing = f"{edit.set_missing:,} set missing" + (
        f", {edit.filled:,} filled in" if edit.filled else ""
    )
    if edit.kind == "numeric":
        return f"{name}: {_count(edit.rows, 'row')} changed ({_typical(edit)}; {missing})"
    shown = ", ".join(
        f"{_text(old)} → {_text(new)}: {count:,}" for old, new, count in edit.transitions
    )
    if edit.other_transitions:
        shown += f", other recodings: {edit.other_transitions:,}"
    if edit.set_missing or edit.filled:
        return f"{name}: {_count(edit.rows, 'row')} changed ({shown}; {missing})"
    return f"{name}: {_count(edit.rows, 'row')} recoded ({shown})"


def _typical(edit: ColumnEdit) -> str:
    """'median × 1.10' or 'median +3' of the changed numbers."""
    if edit.difference is None:
        return "not numbers"
    if edit.by_ratio and edit.ratio is not None:
        ratio = edit.ratio
        return f"median × {ratio:.2f}" if 0.01 <= abs(ratio) < 100 else f"median × {ratio:.3g}"
    return f"median {edit.difference:+,.4g}"


def rows_sentence(diff: ValueDiff) -> str:
    """'300 rows removed, 0 added, 0 reordered, 1,451 edited; no other column changed (14
    compared).'"""
    text = (
        f"{_count(diff.removed, 'row')} removed, {diff.added:,} added, "
        f"{diff.reordered:,} reordered, {diff.edited:,} edited"
    )
    compared = len(diff.compared)
    if not diff.edits:
        return f"{text}; no value changed ({compared} columns compared)."
    quiet = compared - len(diff.edits)
    if not quiet:
        return f"{text}; every column changed."
    return f"{text}; no other column changed ({quiet} of {compared} compared)."


def value_lines(diff: ValueDiff) -> list[str]:
    """One markdown bullet per changed column (most rows first), then the rows."""
    lines = [f"- {edit_sentence(edit)}" for edit in diff.edits[:COLUMNS_SHOWN]]
    rest = diff.edits[COLUMNS_SHOWN:]
    if rest:
        lines.append(f"- {len(rest)} more column(s) changed: " + _names(rest))
    lines.append(f"- {rows_sentence(diff)}")
    return lines


def headline(diff: ValueDiff, shown: int = 3) -> str:
    """'300 removed, 0 added; values changed: `Income` in 1,451 rows' for the verdict."""
    rows = f"{diff.removed:,} removed, {diff.added:,} added"
    if not diff.edits:
        return f"{rows}; no value changed"
    listed = ", ".join(f"`{e.column}` in {_count(e.rows, 'row')}" for e in diff.edits[:shown])
    more = f" and {len(diff.edits) - shown} more column(s)" if len(diff.edits) > shown else ""
    return f"{rows}; values changed: {listed}{more}"


def _names(edits: list[ColumnEdit]) -> str:
    """'`a` (12), `b` (3)'."""
    return ", ".join(f"`{edit.column}` ({edit.rows:,})" for edit in edits)


def _count(number: int, noun: str) -> str:
    """'1 row', '1,451 rows'."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _text(value: str, width: int = 40) -> str:
    """A cell on one line, cut to `width` characters."""
    line = " ".join(value.split())
    return line if len(line) <= width else line[: width - 1] + "…"
