"""drift: reference vs current part, per feature (engineered ratios too), for the model score
and the dataset."""

from __future__ import annotations

from kaizen.bundle import scoring
from kaizen.drift import rendering, verdicts
from kaizen.io import files
from kaizen.config import Params
from kaizen.pipeline.data import Schema, check_columns
from kaizen.pipeline.model import engineered, predict_scores

HELP = "data and score drift, reference vs current (--output folder)"
PATHS = ("reference", "current", "test", "schema", "model", "info", "output")


def run(  # pylint: disable=too-many-arguments  # one keyword per path dvc.yaml passes
    params: Params,
    *,
    reference: str,
    current: str,
    test: str,
    schema: str,
    model: str,
    info: str,
    output: str,
) -> dict:
    """Compare both parts; write metrics.json, features.json and summary.md to `output`.

    The score reference is the test split's scores: the reference part's own scores are
    in-sample for its training rows and would make any current part look shifted.
    """
    layout = Schema.from_dict(files.read_json(schema))
    paths = {"reference": reference, "current": current, "test": test}
    parts = {name: files.read_parquet(path) for name, path in paths.items()}
    for name, path in paths.items():
        check_columns(parts[name], layout, path)
    pipeline = scoring.load(model, info).pipeline  # its SHA-256 checked against `info`
    scores = tuple(
        predict_scores(pipeline, parts[name][layout.features]) if len(parts[name]) else []
        for name in ("test", "current")
    )
    frames = {name: engineered(pipeline, parts[name]) for name in ("reference", "current")}
    ratios = frames["reference"][1]
    report = verdicts.analyse(
        frames["reference"][0],
        frames["current"][0],
        layout.numeric + ratios,
        layout.categorical,
        params.drift,
        scores=scores,
        target=layout.target,
    )
    metrics = report.metrics()
    with files.atomic_dir(output) as tmp:
        files.write_json(metrics, tmp / "metrics.json")
        files.write_json([item.to_dict() for item in report.features], tmp / "features.json")
        files.write_text(rendering.summary_markdown(report), tmp / "summary.md")
    return {key: value for key, value in metrics.items() if key != "psi"}
