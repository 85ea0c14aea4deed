"""drift: reference vs current part, per feature, for the model score and the dataset."""

from __future__ import annotations

from kaizen import drift as D
from kaizen import io
from kaizen.config import Params
from kaizen.data import Schema, check_columns
from kaizen.model import predict_scores


def run(
    params: Params, reference: str, current: str, schema_path: str, model: str, output: str
) -> dict:
    """Compare both parts; write metrics.json, features.json and summary.md to `output`."""
    schema = Schema.from_dict(io.read_json(schema_path))
    parts = {"reference": io.read_parquet(reference), "current": io.read_parquet(current)}
    for name, path in (("reference", reference), ("current", current)):
        check_columns(parts[name], schema, path)
    pipeline = io.load_model(model)
    scores = tuple(
        predict_scores(pipeline, frame[schema.features]) if len(frame) else []
        for frame in parts.values()
    )
    report = D.analyse(
        parts["reference"],
        parts["current"],
        schema.numeric,
        schema.categorical,
        params.drift,
        scores=scores,
        target=schema.target,
    )
    metrics = report.metrics()
    with io.atomic_dir(output) as tmp:
        io.write_json(metrics, tmp / "metrics.json")
        io.write_json([item.to_dict() for item in report.features], tmp / "features.json")
        (tmp / "summary.md").write_text(D.summary_markdown(report), encoding="utf-8")
    return {key: value for key, value in metrics.items() if key != "psi"}
