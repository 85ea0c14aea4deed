"""Scoring a stream of Arrow record batches (a Parquet dataset, a DuckDB query) with bounded
memory: at most `workers` batches are scored at once, in order, each written as soon as it and
those before it are done. Row numbers (1-based, across batches) name a bad row in errors."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable

import pandas as pd
import pyarrow as pa

from kaizen.bundle import scoring
from kaizen.engines.batch import native_threads, scored


def score_batches(  # pylint: disable=too-many-arguments
    model: scoring.Model,
    batches: Iterable[pa.RecordBatch],
    write: Callable[[pd.DataFrame], None],
    to_frame: Callable[[pa.RecordBatch, int], pd.DataFrame],
    source: str,
    *,
    threshold: float | None,
    reasons: int,
    workers: int,
    threads: int,
) -> int:
    """Score every batch on `workers` threads (OpenMP/BLAS limited to `threads` each), passing
    the scored frames to `write` in input order; the number of rows."""

    def task(frame: pd.DataFrame) -> pd.DataFrame:
        return scored(model, frame, source, threshold=threshold, reasons=reasons)

    with native_threads(threads):
        return in_order(batches, to_frame, task, write, workers)


def in_order(
    batches: Iterable[pa.RecordBatch | pa.Table],
    to_frame: Callable[[pa.RecordBatch | pa.Table, int], pd.DataFrame],
    task: Callable[[pd.DataFrame], pd.DataFrame],
    write: Callable[[pd.DataFrame], None],
    workers: int,
) -> int:
    """`task` on every batch (as `to_frame` makes it, numbered from row 1) on `workers` threads,
    at most `workers` + 1 at once, its results passed to `write` in input order; the number of
    rows."""
    rows = 0
    pending: deque[Future[pd.DataFrame]] = deque()
    with ThreadPoolExecutor(workers) as pool:
        for batch in batches:
            frame = to_frame(batch, rows + 1)
            rows += len(frame)
            pending.append(pool.submit(task, frame))
            while len(pending) > workers or (pending and pending[0].done()):
                write(pending.popleft().result())
        while pending:
            write(pending.popleft().result())
    return rows
