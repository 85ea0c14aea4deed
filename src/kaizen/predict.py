"""Batch scoring with the saved pipeline (the inference pipeline; not a DVC stage)."""

from __future__ import annotations

from pathlib import Path

from kaizen import KaizenError, io
from kaizen.data import Schema, coerce_features, read_raw
from kaizen.model import predict_scores


def model_info_path(model: str | Path) -> Path:
    """The metadata file saved beside a model: `model.joblib` -> `model.json`."""
    return Path(model).with_suffix(".json")


def run(
    model: str, source: str, output: str, threshold: float | None = None, separator: str = ","
) -> int:
    """Score every row of `source` (a CSV split by `separator`), adding `score` (and `decision`)."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise KaizenError(f"--threshold: must lie in [0, 1], got {threshold}")
    if Path(output).resolve() == Path(source).resolve():
        raise KaizenError(f"{output}: refusing to overwrite the input file")
    info = io.read_json(model_info_path(model))
    schema = Schema.from_dict(info["schema"])
    pipeline = io.load_model(model)
    raw = read_raw(source, separator)
    features = coerce_features(raw, schema, source)
    scored = raw.copy()
    scored["score"] = predict_scores(pipeline, features).round(6)
    if threshold is not None:
        scored["decision"] = (scored["score"] >= threshold).map({True: "refuse", False: "accept"})
    io.write_csv(scored, output, index=False)
    return len(scored)
