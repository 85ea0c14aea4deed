"""How rows of two files pair up: multiset matching, the in-order run, pairing within hunks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kaizen.reporting import rowmatch as M


def test_multiset_pairs_and_in_order():
    """k-th copy with k-th copy; the longest increasing run marks what was not reordered."""
    left, right = np.array([5, 7, 5, 9, 5]), np.array([5, 9, 5, 1])
    i, j = M.multiset_pairs(left, right)
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 0), (2, 2), (3, 1)]
    assert M.in_order(np.array([0, 1, 2])).all()
    assert M.in_order(np.array([3, 0, 1, 2, 9, 4])).tolist() == [0, 1, 1, 1, 0, 1]
    assert M.in_order(np.array([], dtype=np.int64)).tolist() == []
    i, j = M.multiset_pairs(np.array([1, 2], np.uint64), np.array([], np.uint64))
    assert (i.tolist(), j.tolist()) == ([], [])


def test_pair_in_hunks_steps():
    """In one hunk: rows one column apart pair whatever their order, the rest in turn only where
    both sides have as many left; rows of different hunks never pair."""
    base = pd.DataFrame({"a": list("pqrs"), "b": ["1", "2", "3", "4"], "c": list("wxyz")})
    head = pd.DataFrame({"a": list("srqp"), "b": ["4", "3", "9", "1"], "c": list("zy9w")})
    cells = M.column_hashes(base, list(base)), M.column_hashes(head, list(head))
    zeros = np.zeros(4, np.int64), np.zeros(4, np.int64)
    i, j = M.pair_in_hunks(zeros, cells)
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 3), (1, 2), (2, 1), (3, 0)]
    apart = np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0])
    i, j = M.pair_in_hunks(apart, cells)
    assert sorted(zip(i.tolist(), j.tolist())) == [(0, 3), (1, 2), (2, 1), (3, 0)]
    uneven = np.array([0, 0, 0, 0]), np.array([0, 0, 0, 1])  # head row 3 in another hunk
    i, j = M.pair_in_hunks(uneven, cells)
    assert sorted(zip(i.tolist(), j.tolist())) == [(2, 1), (3, 0)]  # 2 base rows left, 1 head
