"""Scoring a stream of Arrow batches: order kept, row numbers across batches, bounded work."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.engines import stream
from kaizen.engines.batch import scored
from kaizen.io.batches import to_frame
from tests.unit.helpers import credit_frame

FEATURES = ["Income", "Debt", "Amount", "Price", "Home"]


def arrow_batches(frame: pd.DataFrame, size: int) -> list[pa.RecordBatch]:
    """`frame` as record batches of `size` rows."""
    return pa.Table.from_pandas(frame, preserve_index=False).to_batches(max_chunksize=size)


@pytest.mark.parametrize("workers", [1, 3])
def test_batches_scored_in_order(bundled, workers):
    """Many small batches on several workers give the one-batch result, in input order, with
    1-based row numbers across batches."""
    model = artifact.load(bundled).model
    frame = credit_frame(53, seed=8)[FEATURES]
    written: list[pd.DataFrame] = []
    rows = stream.score_batches(
        model,
        iter(arrow_batches(frame, 5)),
        written.append,
        to_frame,
        "src",
        threshold=0.5,
        reasons=1,
        workers=workers,
        threads=1,
    )
    assert rows == 53 and len(written) == 11
    whole = pd.concat(written)
    assert whole.index.tolist() == list(range(1, 54))
    expected = scored(
        model, to_frame(arrow_batches(frame, 100)[0], 1), "src", threshold=0.5, reasons=1
    )
    pd.testing.assert_frame_equal(whole, expected)


def test_bad_row_is_named_across_batches(bundled):
    """A bad value in the third batch names its row in the whole input."""
    model = artifact.load(bundled).model
    frame = credit_frame(12, seed=1)[FEATURES].astype(str)
    frame.loc[10, "Debt"] = "lots"  # the 11th row
    with pytest.raises(KaizenError, match="^in: column 'Debt' holds text 'lots' at data row 11,"):
        stream.score_batches(
            model,
            iter(arrow_batches(frame, 4)),
            lambda part: None,
            to_frame,
            "in",
            threshold=None,
            reasons=0,
            workers=2,
            threads=1,
        )
