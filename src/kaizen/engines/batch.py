"""The columns every batch engine adds to a batch of applications: `score` (the bundle's
probability of default, `kaizen.bundle.scoring.Model.scores`, rounded to 6 decimals), `decision`
(refuse when score >= the threshold), `unseen` (categories never seen in training) and optional
reason codes. pandas, DuckDB and Spark call this one function on pandas batches, so they give the
same numbers (tested on the same rows, with the API).

Every worker scores with an explicit number of OpenMP/BLAS threads (`threads`): under two
workers on two cores, the libraries' default (one thread per core in each worker) made histogram
gradient boosting three times slower."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kaizen.bundle import scoring
from kaizen.io.tables import TEXT
from kaizen.pipeline.data import coerce_features

DECIMALS = 6  # the scores' rounding in batch outputs


@contextlib.contextmanager
def native_threads(threads: int) -> Iterator[None]:
    """OpenMP and BLAS limited to `threads` threads while the block runs (threadpoolctl, a
    scikit-learn dependency, imported here so that importing this module stays light)."""
    # pylint: disable-next=import-outside-toplevel
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield


def unseen_text(mask: pd.DataFrame, features: pd.DataFrame) -> pd.Series:
    """Per row, `column=value` for each unseen category, joined by '; ' ('' when none)."""
    text = pd.Series("", index=mask.index, dtype=object)
    for name in mask.columns:
        flagged = mask[name].to_numpy()
        if flagged.any():
            item = f"{name}=" + features.loc[flagged, name].astype(str)
            text[flagged] = np.where(text[flagged] == "", item, text[flagged] + "; " + item)
    return text


def reason_columns(reasons: list[list[tuple[str, float]]], k: int) -> dict[str, list[str]]:
    """`reason_1` … `reason_k`: the features that raised the score, largest first ('' after the
    last one that did)."""
    return {
        f"reason_{rank + 1}": [row[rank][0] if rank < len(row) else "" for row in reasons]
        for rank in range(k)
    }


def score_batch(
    model: scoring.Model, features: pd.DataFrame, *, threshold: float | None, reasons: int
) -> pd.DataFrame:
    """The columns a batch engine adds, for the rows of `features` (typed by
    `coerce_features`), indexed like them."""
    added = pd.DataFrame({"score": model.scores(features).round(DECIMALS)}, index=features.index)
    if threshold is not None:  # built by pyarrow: numpy's strings cost 10x as much to convert
        refused = pa.array(added["score"].to_numpy() >= threshold)
        added["decision"] = pd.array(pc.if_else(refused, "refuse", "accept"), dtype=TEXT)
    added["unseen"] = unseen_text(model.unseen(features), features)
    if reasons:
        added = added.assign(**reason_columns(model.reasons(features, reasons), reasons))
    return added


def scored(
    model: scoring.Model,
    raw: pd.DataFrame,
    source: str,
    *,
    threshold: float | None,
    reasons: int,
) -> pd.DataFrame:
    """`raw` (any column types: text from a CSV, typed columns from Parquet, DuckDB or Spark)
    with the columns of `score_batch` appended; errors name `source` and the row."""
    features = coerce_features(raw, model.schema, source)
    return raw.assign(**score_batch(model, features, threshold=threshold, reasons=reasons))
