"""The same profile as the event store's, computed where the data lives: a Spark DataFrame of
applications (and, when present, their `score` and `decision`, e.g. `kaizen.spark.score`'s
output), profiled partition by partition and merged on the driver.

`profile(df, bundle)` verifies and loads the bundle on the driver and broadcasts its fitted
pipeline once; each partition's Arrow batches are typed by the bundle's schema, given the
model's engineered ratios (as the monitor does), sketched and merged into one profile per
partition, which travels to the driver as bytes (a few hundred kilobytes whatever the number of
rows). The result is a `kaizen.sketches.profile.Profile`: merge it with others, store it, or
judge it with the drift functions (`Profile.summary()`). Its sketches compact at random (KLL's
updates and merges: two builds of the same rows differ within the rank error); a built profile
judges the same every time, so store it (`dumps`) to judge the same figures again, and join
several with `profile.mixture` rather than merging them. PySpark is the optional extra
`.[spark]`; executors need the `kaizen` package installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.pipeline.data import coerce_features
from kaizen.pipeline.model import engineered
from kaizen.sketches import profile as sketch

if TYPE_CHECKING:  # PySpark is the optional extra `.[spark]`
    from pyspark.sql import DataFrame

K = 2000  # params.yaml's monitor.sketch_k default: pass the one the monitor uses


def columns(bundle: artifact.Bundle) -> tuple[list[str], list[str]]:
    """The numeric (inputs and engineered ratios) and categorical columns the bundle's reference
    profile has: the ones a profile sketches."""
    kinds = {name: item.kind for name, item in bundle.info.profile.items()}
    return (
        [name for name, kind in kinds.items() if kind == "numeric"],
        [name for name, kind in kinds.items() if kind == "categorical"],
    )


def partition_profile(
    model, frames: Iterator[pd.DataFrame], numeric: list[str], categorical: list[str], k: int
) -> sketch.Profile:
    """One partition's batches profiled and merged (a batch at a time in memory)."""

    def batches() -> Iterator[sketch.Profile]:
        for frame in frames:
            typed = coerce_features(frame, model.schema, "DataFrame")
            for name in ("score", "decision"):
                if name in frame:
                    typed[name] = frame[name].to_numpy()
            ready, _ = engineered(model.pipeline, typed)
            yield sketch.build(ready, numeric, categorical, k)

    return sketch.merge(batches(), k)


def profile(df: DataFrame, bundle: str | Path | artifact.Bundle, *, k: int = K) -> sketch.Profile:
    """The profile of every row of `df` (see the module's docstring)."""
    # pylint: disable-next=import-outside-toplevel  # the optional extra
    from pyspark.sql import types as T

    if not 8 <= k <= 65535:
        raise KaizenError(f"k: must lie in 8-65535 (DataSketches' KLL bounds), got {k}")
    loaded = bundle if isinstance(bundle, artifact.Bundle) else artifact.load(bundle)
    missing = [name for name in loaded.model.schema.features if name not in df.columns]
    if missing:
        raise KaizenError(f"DataFrame: missing column(s) the model needs: {', '.join(missing)}")
    numeric, categorical = columns(loaded)
    shipped = df.sparkSession.sparkContext.broadcast(loaded.model)
    wanted = [*loaded.model.schema.features, *(c for c in ("score", "decision") if c in df.columns)]

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        made = partition_profile(shipped.value, frames, numeric, categorical, k)
        yield pd.DataFrame({"profile": [sketch.dumps(made)]})

    schema = T.StructType([T.StructField("profile", T.BinaryType())])
    parts = df.select(*wanted).mapInPandas(run, schema).collect()
    return sketch.merge(
        (sketch.loads(bytes(row["profile"]), "Spark partition profile") for row in parts), k
    )
