"""Scoring a Spark DataFrame where the data lives, with the same bundle and the same scoring
function as `kaizen predict` and the API (`kaizen.engines.batch`).

`score(df, bundle)` verifies the bundle's hashes on the driver, broadcasts the loaded model once
(each executor fetches and unpickles it once, not once per task), and scores Arrow batches with
`mapInPandas`, OpenMP/BLAS limited to `threads` per Python worker. Executors need the `kaizen`
package installed (a wheel on the cluster: docs/scale.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pandas as pd

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.engines.batch import native_threads, score_batch
from kaizen.pipeline.data import coerce_features
from kaizen.sketches.spark import profile  # noqa: F401  # pylint: disable=unused-import

if TYPE_CHECKING:  # PySpark is the optional extra `.[spark]`
    from pyspark.sql import DataFrame

REASONS = 4  # reason codes per row by default (the API's default)
ADDED = ("score", "decision", "unseen", "reasons", "model_version")


def score(
    df: DataFrame,
    bundle: str | Path | artifact.Bundle,
    *,
    threshold: float | None = None,
    reasons: int = REASONS,
    threads: int = 1,
) -> DataFrame:
    """`df` with `score` (double, rounded to 6 decimals like `kaizen predict`), `decision`
    (`refuse` when score >= `threshold`, default the bundle's), `unseen`, `reasons` (array of
    up to `reasons` feature names, largest contribution first) and `model_version` appended."""
    # pylint: disable-next=import-outside-toplevel  # the optional extra
    from pyspark.sql import types as T

    loaded = bundle if isinstance(bundle, artifact.Bundle) else artifact.load(bundle)
    cut = loaded.threshold if threshold is None else threshold
    if not 0 <= cut <= 1:
        raise KaizenError(f"threshold: must lie in [0, 1], got {cut}")
    if reasons < 0:
        raise KaizenError(f"reasons: must be 0 or more, got {reasons}")
    missing = [name for name in loaded.model.schema.features if name not in df.columns]
    if missing:
        raise KaizenError(f"DataFrame: missing column(s) the model needs: {', '.join(missing)}")
    clash = [name for name in ADDED if name in df.columns]
    if clash:
        raise KaizenError(f"DataFrame: already has column(s) {', '.join(clash)}")
    shipped = df.sparkSession.sparkContext.broadcast(loaded.model)
    version = loaded.version
    schema = T.StructType(
        df.schema.fields
        + [
            T.StructField("score", T.DoubleType()),
            T.StructField("decision", T.StringType()),
            T.StructField("unseen", T.StringType()),
            T.StructField("reasons", T.ArrayType(T.StringType())),
            T.StructField("model_version", T.StringType()),
        ]
    )

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = shipped.value
        with native_threads(threads):
            for frame in frames:
                yield scored_frame(model, frame, cut, reasons, version)

    return df.mapInPandas(run, schema)


def scored_frame(model: Any, frame: pd.DataFrame, threshold: float, k: int, version: str):
    """One Arrow batch of a partition with the columns `score` adds; a bad value is named with
    its partition (a batch's row numbers mean nothing in the whole DataFrame)."""
    try:
        features = coerce_features(frame, model.schema, "DataFrame")
    except KaizenError as exc:
        # pylint: disable-next=import-outside-toplevel  # runs on an executor
        from pyspark import TaskContext

        context = TaskContext.get()
        where = f" in partition {context.partitionId()}" if context is not None else ""
        raise KaizenError(re.sub(r" at data row \d+", where, str(exc))) from None
    added = score_batch(model, features, threshold=threshold, reasons=0)
    why = [[name for name, _ in row] for row in model.reasons(features, k)] if k else None
    return frame.assign(
        score=added["score"].to_numpy(),
        decision=added["decision"].to_numpy(),
        unseen=added["unseen"].to_numpy(),
        reasons=why if why is not None else [[] for _ in range(len(frame))],
        model_version=version,
    )
