"""train: fit the one model pipeline on the train split and save it with its metadata."""

from __future__ import annotations

import sys
import time

from kaizen import KaizenError, io
from kaizen.config import Params
from kaizen.data import Schema
from kaizen.features import outlier_rows
from kaizen.model import build_pipeline, library_versions, usable_ratios


def run(params: Params, train: str, schema_path: str, model: str, info: str, metrics: str) -> dict:
    """Fit, then write the pipeline (joblib), its metadata (JSON) and training facts."""
    config = params.train
    schema = Schema.from_dict(io.read_json(schema_path))
    frame = io.read_parquet(train)
    _, skipped = usable_ratios(schema, config)
    for name in skipped:
        print(
            f"kaizen train: ratio {name!r} skipped: its columns are not numeric columns of this "
            "data",
            file=sys.stderr,
        )
    removed = 0
    if config.outliers.method == "remove":
        mask = outlier_rows(frame, schema.numeric, config.outliers.lower, config.outliers.upper)
        removed = int(mask.sum())
        frame = frame.loc[~mask]
        if frame[schema.target].nunique() < 2:
            raise KaizenError("params.yaml: train.outliers: removing outliers left a single class")
    pipeline = build_pipeline(schema, config)
    started = time.perf_counter()
    try:
        pipeline.fit(frame[schema.features], frame[schema.target].to_numpy())
    except ValueError as exc:
        if "n_components" in str(exc):
            raise KaizenError(f"params.yaml: train.pca.n_components: {exc}") from None
        raise
    seconds = time.perf_counter() - started
    encoded = pipeline[:-1].transform(frame[schema.features].iloc[:1]).shape[1]
    facts = {
        "rows": len(frame),
        "outliers_removed": removed,
        "features_in": len(schema.features),
        "features_model": int(encoded),
        "fit_seconds": round(seconds, 3),
    }
    metadata = {
        "schema": schema.to_dict(),
        "ratios_skipped": skipped,
        "train_sha256": io.file_sha256(train),
        "train_rows": len(frame),
        "params": config.model_dump(mode="json"),
        "versions": library_versions(),
    }
    io.save_model(pipeline, model)
    io.write_json(metadata, info)
    io.write_json({k: v for k, v in facts.items() if k != "fit_seconds"}, metrics)
    return facts
