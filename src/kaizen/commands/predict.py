"""predict: batch scoring of a CSV with the saved pipeline (the inference pipeline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kaizen import KaizenError, files
from kaizen.data import Schema, coerce_features, read_raw
from kaizen.model import predict_scores


def model_info_path(model: str | Path) -> Path:
    """The metadata file saved beside a model: `model.joblib` -> `model.json`."""
    return Path(model).with_suffix(".json")


def score_file(
    model: str, source: str, output: str, threshold: float | None = None, separator: str = ","
) -> int:
    """Score every row of `source` (a CSV split by `separator`), adding `score` (and `decision`)."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise KaizenError(f"--threshold: must lie in [0, 1], got {threshold}")
    if Path(output).resolve() == Path(source).resolve():
        raise KaizenError(f"{output}: refusing to overwrite the input file")
    info = files.read_json(model_info_path(model))
    schema = Schema.from_dict(info["schema"])
    pipeline = files.load_model(model)
    raw = read_raw(source, separator)
    features = coerce_features(raw, schema, source)
    scored = raw.copy()
    scored["score"] = predict_scores(pipeline, features).round(6)
    if threshold is not None:
        scored["decision"] = (scored["score"] >= threshold).map({True: "refuse", False: "accept"})
    files.write_csv(scored, output, index=False)
    return len(scored)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `predict`."""
    cmd = commands.add_parser("predict", help="score a CSV of new applications")
    cmd.add_argument("--model", default="models/model.joblib")
    cmd.add_argument("--input", required=True)
    cmd.add_argument("--output", required=True)
    cmd.add_argument("--threshold", type=float, default=None, help="refuse scores >= this")
    cmd.add_argument("--separator", default=",", help="column separator of the input CSV")
    cmd.set_defaults(handler=predict)


def predict(args: argparse.Namespace) -> dict:
    """Score a CSV with the saved pipeline."""
    rows = score_file(args.model, args.input, args.output, args.threshold, args.separator)
    return {"rows": rows, "output": args.output}
