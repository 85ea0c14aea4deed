"""How the rows of two versions of a file pair up: identical rows, rows with the same key, and,
without a key, edited rows paired within the stretches between unchanged rows, as a line diff
pairs the lines of a hunk.

Rows are known by 64-bit hashes (pandas' `hash_pandas_object` per cell, combined per row), read
from chunks of the files, so that memory holds hashes, never a whole frame. Pure: the chunks are
whatever the caller reads.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import cache
from typing import Callable, Iterable, NamedTuple

import numpy as np
import pandas as pd

Chunks = Callable[[], Iterable[pd.DataFrame]]  # each call reads the file again, in row order
Pair = tuple[np.ndarray, np.ndarray]  # base side, head side
CHUNK_ROWS = 100_000
HUNK = np.uint64(0x9E3779B97F4A7C15)  # odd: spreads hunk numbers over 64 bits
ALIKE_PAIRS = 250_000  # largest hunk (base rows x head rows) searched for alike rows


def frame_chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> Chunks:
    """A frame already in memory, as chunks."""
    return lambda: (frame.iloc[start : start + rows] for start in range(0, len(frame), rows))


def column_hashes(chunk: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per cell (rows x columns); a missing cell of any kind hashes alike."""
    return np.column_stack(
        [pd.util.hash_pandas_object(chunk[name], index=False).to_numpy() for name in columns]
    )


@cache
def weights(columns: int) -> np.ndarray:
    """One odd 64-bit multiplier per column: a row's hash is the sum of its cells' hashes times
    these (mod 2**64), so the hash of a row without one column is a subtraction away."""
    return np.random.default_rng(25).integers(0, 2**63, columns, dtype=np.uint64) * 2 + 1


def combine(hashes: np.ndarray) -> np.ndarray:
    """Row hashes from cell hashes (rows x columns)."""
    with np.errstate(over="ignore"):
        return (hashes * weights(hashes.shape[1])).sum(axis=1, dtype=np.uint64)


class Hashed(NamedTuple):
    """One hash per row of a file: the whole row, and its key (None without a key)."""

    rows: np.ndarray
    keys: np.ndarray | None


def hash_rows(chunks: Chunks, columns: list[str], key: list[str] | None = None) -> Hashed:
    """Pass 1: the hash of every row over `columns` (and over the `key` columns)."""
    rows, keys = [], []
    where = [columns.index(name) for name in key or []]
    for chunk in chunks():
        cells = column_hashes(chunk, columns)
        rows.append(combine(cells))
        if where:
            keys.append(combine(cells[:, where]))
    empty = np.empty(0, np.uint64)
    return Hashed(np.concatenate(rows or [empty]), np.concatenate(keys) if where else None)


def multiset_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of equal values, the k-th copy in `left` with the k-th copy in `right`."""
    order_l, order_r = np.argsort(left, kind="stable"), np.argsort(right, kind="stable")
    values_l, start_l, count_l = _runs(left[order_l])
    values_r, start_r, count_r = _runs(right[order_r])
    found = np.minimum(np.searchsorted(values_r, values_l), max(len(values_r) - 1, 0))
    at_l = np.flatnonzero(values_r[found] == values_l) if len(values_r) else found[:0]
    at_r = found[at_l]
    counts = np.minimum(count_l[at_l], count_r[at_r])
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return (
        order_l[np.repeat(start_l[at_l], counts) + offsets],
        order_r[np.repeat(start_r[at_r], counts) + offsets],
    )


def _runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of a sorted array, where each run starts, and its length."""
    if ordered.size == 0:
        return ordered, np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], starts, np.diff(np.r_[starts, len(ordered)])


def in_order(values: np.ndarray) -> np.ndarray:
    """Mask of one longest strictly increasing subsequence of distinct non-negative `values`."""
    if len(values) < 2 or bool(np.all(values[1:] > values[:-1])):
        return np.ones(len(values), bool)
    # A value above all before it and below all after it is in every longest run: only the
    # others need the O(n log n) search (a moved block leaves most rows out of it).
    before = np.r_[-1, np.maximum.accumulate(values)[:-1]]
    after = np.r_[np.minimum.accumulate(values[::-1])[::-1][1:], values.max() + 1]
    mask = (values > before) & (values < after)
    loose = np.flatnonzero(~mask)
    mask[loose[_longest_run(values[loose].tolist())]] = True
    return mask


def _longest_run(values: list[int]) -> list[int]:
    """Positions of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []  # smallest last value of an increasing run of each length
    ends: list[int] = []  # its position
    previous = [-1] * len(values)
    for position, value in enumerate(values):
        length = bisect_left(tails, value)
        previous[position] = ends[length - 1] if length else -1
        if length == len(tails):
            tails.append(value)
            ends.append(position)
        else:
            tails[length], ends[length] = value, position
    out = []
    position = ends[-1] if ends else -1
    while position >= 0:
        out.append(position)
        position = previous[position]
    return out[::-1]


def gather_hashes(chunks: Chunks, columns: list[str], rows: np.ndarray) -> np.ndarray:
    """Pass 2: cell hashes of the given (sorted) rows only."""
    out = np.empty((len(rows), len(columns)), np.uint64)
    for offset, chunk, low, high in _select(chunks, rows):
        out[low:high] = column_hashes(chunk.iloc[rows[low:high] - offset], columns)
    return out


def _select(chunks: Chunks, rows: np.ndarray):
    """(offset, chunk, low, high) for each chunk holding some of the sorted `rows`."""
    offset = 0
    for chunk in chunks():
        if offset > (rows[-1] if len(rows) else -1):
            return
        low, high = np.searchsorted(rows, [offset, offset + len(chunk)])
        if high > low:
            yield offset, chunk, int(low), int(high)
        offset += len(chunk)


def pair_in_hunks(hunks: Pair, cells: Pair) -> Pair:
    """Pair unmatched base and head rows of the same hunk (`hunks`: each row's hunk number,
    `cells`: its cell hashes): rows one column apart first, then rows agreeing on more than half
    of the columns (most alike first), then the rest in turn where both sides have as many left.
    Returns the paired positions."""
    free_b, free_h = np.ones(len(hunks[0]), bool), np.ones(len(hunks[1]), bool)
    out_b, out_h = [], []
    for step in (_one_column_apart, _alike, _in_turn):
        left, right = np.flatnonzero(free_b), np.flatnonzero(free_h)
        if left.size == 0 or right.size == 0:
            break
        i, j = step(hunks, cells, left, right)
        free_b[i], free_h[j] = False, False
        out_b.append(i)
        out_h.append(j)
    empty = np.empty(0, np.int64)
    return np.concatenate(out_b or [empty]), np.concatenate(out_h or [empty])


def _one_column_apart(hunks: Pair, cells: Pair, left: np.ndarray, right: np.ndarray) -> Pair:
    """Rows of one hunk equal but in one column (the hash of the row without that column)."""
    sides = (left, _salted(hunks[0], cells[0], left)), (right, _salted(hunks[1], cells[1], right))
    free = np.ones(len(left), bool), np.ones(len(right), bool)
    out_b, out_h = [], []
    for column, weight in enumerate(weights(cells[0].shape[1])):
        at_b, at_h = np.flatnonzero(free[0]), np.flatnonzero(free[1])
        with np.errstate(over="ignore"):
            i, j = multiset_pairs(
                sides[0][1][at_b] - cells[0][left[at_b], column] * weight,
                sides[1][1][at_h] - cells[1][right[at_h], column] * weight,
            )
        free[0][at_b[i]], free[1][at_h[j]] = False, False
        out_b.append(left[at_b[i]])
        out_h.append(right[at_h[j]])
    return np.concatenate(out_b), np.concatenate(out_h)


def _salted(hunk: np.ndarray, cells: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Hashes of `rows` that differ between hunks."""
    with np.errstate(over="ignore"):
        return combine(cells[rows]) + hunk[rows].astype(np.uint64) * HUNK


def _alike(hunks: Pair, cells: Pair, left: np.ndarray, right: np.ndarray) -> Pair:
    """Rows of one hunk agreeing on more than half of the columns, most alike first (hunks of at
    most ALIKE_PAIRS candidate pairs: a bigger one is a block removed and added, not edits)."""
    shared = np.intersect1d(hunks[0][left], hunks[1][right])
    pairs: list[tuple[int, int]] = []
    for rows_b, rows_h in zip(_by_hunk(hunks[0], left, shared), _by_hunk(hunks[1], right, shared)):
        if len(rows_b) * len(rows_h) <= ALIKE_PAIRS:
            alike = _most_alike(cells[0][rows_b], cells[1][rows_h])
            pairs += [(rows_b[a], rows_h[b]) for a, b in alike]
    out = np.array(pairs, np.int64).reshape(-1, 2)
    return out[:, 0], out[:, 1]


def _by_hunk(hunk: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> list[np.ndarray]:
    """The `rows` (in file order, so in hunk order) of each hunk in `wanted`."""
    groups = hunk[rows]
    starts, ends = np.searchsorted(groups, wanted), np.searchsorted(groups, wanted, "right")
    return [rows[start:end] for start, end in zip(starts, ends)]


def _most_alike(base: np.ndarray, head: np.ndarray) -> list[tuple[int, int]]:
    """Greedy pairs of rows (cell hashes) agreeing on more than half of the columns, most
    agreeing first."""
    same = (base[:, None, :] == head[None, :, :]).sum(axis=2)
    i, j = np.nonzero(same > base.shape[1] // 2)
    order = np.argsort(-same[i, j], kind="stable")
    taken: tuple[set[int], set[int]] = set(), set()
    pairs = []
    for a, b in zip(i[order].tolist(), j[order].tolist()):
        if a not in taken[0] and b not in taken[1]:
            taken[0].add(a)
            taken[1].add(b)
            pairs.append((a, b))
    return pairs


def _in_turn(  # pylint: disable=unused-argument  # the signature of the other steps
    hunks: Pair, cells: Pair, left: np.ndarray, right: np.ndarray
) -> Pair:
    """The rest of each hunk in file order, where both sides have as many rows left."""
    groups_b, groups_h = hunks[0][left], hunks[1][right]
    size = int(max(groups_b.max(initial=-1), groups_h.max(initial=-1))) + 1
    even = np.bincount(groups_b, minlength=size) == np.bincount(groups_h, minlength=size)
    return left[even[groups_b]], right[even[groups_h]]
