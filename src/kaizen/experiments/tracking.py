"""MLflow's view of a Kaizen run, pure parts: what becomes params, metrics and tags, and the model
signature built from the saved schema.

Git + DVC stay the source of truth. A run is keyed by the commit it describes (tag
`kaizen.commit`), so that logging the same commit again updates that run instead of adding one.
Metric names are `<stage>.<key>` (`evaluate.test.roc_auc`): the stage whose output holds the
metrics file, as in `metrics/<stage>…`. The logged model is the fitted pipeline behind
`PredictInputs`, so that MLflow-served requests are read exactly as `kaizen predict` reads a CSV.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from kaizen.pipeline.data import Schema, coerce_features
from kaizen.pipeline.metrics import flatten

COMMIT = "kaizen.commit"
EXPERIMENT = "kaizen.experiment"  # a mirrored `dvc exp show` row: the experiment's commit
MODEL_URI = "kaizen.model_uri"
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param value
# MLflow keys: letters, digits, `_ . - /` and spaces (`:` except on Windows). `/` goes too: a key
# must not read as a path (`a/../b`).
BAD_KEY_CHARS = re.compile(r"[^\w.\- ]")


def key(name: str) -> str:
    """`name` with the characters MLflow refuses in a key replaced by `_`."""
    return BAD_KEY_CHARS.sub("_", name)


def param_value(value: Any) -> str:
    """A params.yaml value as MLflow stores it: strings as they are, the rest as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_PARAM_LENGTH]


def run_params(params: dict) -> dict[str, str]:
    """params.yaml flattened to MLflow params (`train.logreg.C`)."""
    return {key(name): param_value(value) for name, value in flatten(params).items()}


def run_metrics(stage: str, values: dict) -> tuple[dict[str, float], dict[str, str]]:
    """A metrics file as `<stage>.<key>` metrics (finite numbers) and text values (verdicts)."""
    numbers: dict[str, float] = {}
    texts: dict[str, str] = {}
    for name, value in flatten(values).items():
        full = key(f"{stage}.{name}")
        if isinstance(value, (int, float)) and math.isfinite(value):
            numbers[full] = float(value)
        elif isinstance(value, str):
            texts[full] = value
    return numbers, texts


def experiment_metrics(values: dict[str, Any], stages: dict[str, str]) -> dict[str, float]:
    """`dvc exp show` metrics (`FILE:key`) under the run's names (`<stage>.<key>`)."""
    out: dict[str, float] = {}
    for name, value in values.items():
        path, _, inner = name.rpartition(":")
        if path in stages:
            out.update(run_metrics(stages[path], {inner: value})[0])
    return out


def run_tags(commit: str, dvc_lock_sha256: str, info: dict, version: str) -> dict[str, str]:
    """The tags tying a run to git and DVC; `info` is the model's saved metadata (model.json)."""
    return {
        COMMIT: commit,
        "mlflow.source.git.commit": commit,
        "kaizen.dvc_lock_sha256": dvc_lock_sha256,
        "kaizen.train_sha256": info["train_sha256"],
        "kaizen.version": version,
        "kaizen.pipeline.model": str(info["params"]["model"]),
    }


def model_signature(schema: Schema):
    """Inputs: one required column per feature of the saved schema (double or string; values may
    be missing); outputs: `predict_proba`'s two columns (probability of each class)."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema as Columns, TensorSpec

    inputs: list[ColSpec | TensorSpec] = [ColSpec("double", n) for n in schema.numeric]
    inputs += [ColSpec("string", name) for name in schema.categorical]
    outputs = Columns([TensorSpec(np.dtype("float64"), (-1, 2))])
    return ModelSignature(inputs=Columns(inputs), outputs=outputs)


class PredictInputs(TransformerMixin, BaseEstimator):
    """`kaizen predict`'s reading of inputs as a first pipeline step: the schema's columns,
    numbers parsed, categories stripped, every missing value NaN.

    MLflow's scoring server hands the model the request's cells as JSON gave them (numbers
    possibly as text, categories with spaces, null as None); this step reads them exactly as a
    CSV row is read, so that the served model scores like `kaizen predict`.
    """

    def __init__(self, schema: dict | None = None):
        self.schema = schema

    def fit(self, X, y=None):  # pylint: disable=unused-argument
        """Nothing to learn."""
        return self

    def transform(self, X):
        """The columns the pipeline expects, typed as `kaizen predict` types them."""
        return coerce_features(X, Schema.from_dict(self.schema), "model input")


def served_model(pipeline: Pipeline, schema: Schema) -> Pipeline:
    """The fitted pipeline behind `PredictInputs` (the model MLflow logs and serves)."""
    return Pipeline([("inputs", PredictInputs(schema.to_dict())), ("pipeline", pipeline)])
