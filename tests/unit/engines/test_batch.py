"""The columns every batch engine adds, and the native thread limit of its workers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.engines import batch
from kaizen.pipeline.data import coerce_features
from tests.unit.helpers import credit_frame

FEATURES = ["Income", "Debt", "Amount", "Price", "Home"]


def test_score_batch_columns(bundled):
    """Rounded scores, decisions at the threshold, unseen categories, K reason columns."""
    model = artifact.load(bundled).model
    raw = credit_frame(20, seed=4)[FEATURES]
    raw.loc[3, "Home"] = "castle"
    features = coerce_features(raw, model.schema, "t")
    added = batch.score_batch(model, features, threshold=0.4, reasons=2)
    assert list(added.columns) == ["score", "decision", "unseen", "reason_1", "reason_2"]
    assert added["score"].tolist() == model.scores(features).round(6).tolist()
    assert (
        added["decision"].tolist() == np.where(added["score"] >= 0.4, "refuse", "accept").tolist()
    )
    assert added.loc[3, "unseen"] == "Home=castle"
    assert list(batch.score_batch(model, features, threshold=None, reasons=0).columns) == [
        "score",
        "unseen",
    ]


def test_scored_types_text_and_typed_inputs_alike(bundled):
    """Text (a CSV) and typed columns (Parquet, DuckDB, Spark) give the same scores."""
    model = artifact.load(bundled).model
    typed = credit_frame(30, seed=6)[FEATURES]
    text = typed.astype(str)
    one = batch.scored(model, typed, "typed", threshold=0.5, reasons=0)
    two = batch.scored(model, text, "text", threshold=0.5, reasons=0)
    assert one["score"].tolist() == two["score"].tolist()
    with pytest.raises(KaizenError, match="^bad: column 'Debt' holds text 'x' at data row 1,"):
        batch.scored(
            model, text.assign(Debt=["1", "x"] + ["2"] * 28), "bad", threshold=0.5, reasons=0
        )


def test_native_threads_limits_openmp_and_blas():
    """Inside the block every OpenMP/BLAS pool has the given number of threads."""
    with batch.native_threads(1):
        pools = threadpool_info()
        assert pools and all(pool["num_threads"] == 1 for pool in pools)


def test_unseen_text_joins_columns_per_row():
    """Several unseen columns in one row are joined with '; '."""
    features = pd.DataFrame({"A": ["x", "y", "z"], "B": ["p", "q", "r"]})
    mask = pd.DataFrame({"A": [True, False, True], "B": [True, False, False]})
    assert batch.unseen_text(mask, features).tolist() == ["A=x; B=p", "", "A=z"]
