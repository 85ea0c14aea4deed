"""drift: reference vs current part, per feature, for the model score and the dataset."""

from __future__ import annotations

from kaizen import drift as D
from kaizen import files
from kaizen.config import Params
from kaizen.data import Schema, check_columns
from kaizen.model import predict_scores

HELP = "data and score drift, reference vs current (--output folder)"
PATHS = ("reference", "current", "schema", "model", "output")


def run(
    params: Params, *, reference: str, current: str, schema: str, model: str, output: str
) -> dict:
    """Compare both parts; write metrics.json, features.json and summary.md to `output`."""
    layout = Schema.from_dict(files.read_json(schema))
    parts = {"reference": files.read_parquet(reference), "current": files.read_parquet(current)}
    for name, path in (("reference", reference), ("current", current)):
        check_columns(parts[name], layout, path)
    pipeline = files.load_model(model)
    scores = tuple(
        predict_scores(pipeline, frame[layout.features]) if len(frame) else []
        for frame in parts.values()
    )
    report = D.analyse(
        parts["reference"],
        parts["current"],
        layout.numeric,
        layout.categorical,
        params.drift,
        scores=scores,
        target=layout.target,
    )
    metrics = report.metrics()
    with files.atomic_dir(output) as tmp:
        files.write_json(metrics, tmp / "metrics.json")
        files.write_json([item.to_dict() for item in report.features], tmp / "features.json")
        (tmp / "summary.md").write_text(D.summary_markdown(report), encoding="utf-8")
    return {key: value for key, value in metrics.items() if key != "psi"}
