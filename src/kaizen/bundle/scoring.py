"""Scoring new applications with the saved model: the one path shared by `kaizen predict` and
the API. Loading checks the model file's SHA-256 against `model.json` before unpickling it (a
swapped or truncated file never runs); scoring returns the probability of default
(kaizen.pipeline.scoring), the reason codes (kaizen.bundle.reasons) and the categories the model
never saw in training."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kaizen import KaizenError
from kaizen.io import files
from kaizen.pipeline.data import Schema
from kaizen.pipeline.scoring import prepared, probability, score
from kaizen.bundle.reasons import Explainer, top_reasons

if TYPE_CHECKING:  # unpickling the model imports scikit-learn: importing this module does not,
    # so that `kaizen predict` reads its input while that import runs
    from sklearn.pipeline import Pipeline

VERSION_CHARS = 12  # short SHA-256: the model version and the schema version


def info_path(model: str | Path) -> Path:
    """The metadata file saved beside a model: `model.joblib` -> `model.json`."""
    return Path(model).with_suffix(".json")


@dataclass(frozen=True)
class Model:
    """A loaded pipeline with its metadata."""

    pipeline: Pipeline
    schema: Schema
    categories: dict[str, frozenset[str]]
    sha256: str
    schema_version: str
    explainer: Explainer

    @property
    def version(self) -> str:
        """The short SHA-256 of the model file."""
        return self.sha256[:VERSION_CHARS]

    def scores(self, features: pd.DataFrame) -> np.ndarray:
        """Probability of default per row of `features` (typed by `kaizen.pipeline.data`)."""
        return score(self.pipeline, features)

    def reasons(self, features: pd.DataFrame, k: int) -> list[list[tuple[str, float]]]:
        """Per row, at most `k` features that raised the score, largest first."""
        return top_reasons(self.explainer.contributions(features), k)

    def assess(self, features: pd.DataFrame, explain: bool) -> tuple[np.ndarray, np.ndarray]:
        """Scores and, with `explain`, the contributions matrix (one column per
        `explainer.inputs`; empty columns without) from one pass through the preprocessing:
        the same numbers as `scores` and `reasons`, faster on small batches."""
        inputs, encoded = prepared(self.pipeline, features)
        scores = probability(self.pipeline, encoded)
        if not explain:
            return scores, np.empty((len(features), 0))
        return scores, self.explainer.explain(inputs, encoded)

    def unseen(self, features: pd.DataFrame) -> pd.DataFrame:
        """True where a categorical value was never seen in training (scored as all-zero
        one-hot); missing values are not unseen."""
        return pd.DataFrame(
            {
                name: features[name].notna() & ~features[name].isin(known)
                for name, known in self.categories.items()
            },
            index=features.index,
        )


def read_info(path: str | Path, info: str | Path | None = None) -> dict[str, Any]:
    """The metadata of a model (`info`, default the JSON beside it), checked for what scoring
    needs."""
    source = Path(info) if info is not None else info_path(path)
    found: dict[str, Any] = files.read_json(source)
    for key in ("schema", "model_sha256", "categories", "reference"):
        if key not in found:
            raise KaizenError(
                f"{source}: no {key!r} (saved by an older version: `dvc repro train`)"
            )
    return found


def schema_version(info: dict[str, Any]) -> str:
    """Short SHA-256 of the input schema and its known categories (what requests must match)."""
    described = {"schema": info["schema"], "categories": info["categories"]}
    canonical = json.dumps(described, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()[:VERSION_CHARS]


def categories(info: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Known values per categorical column."""
    return {name: frozenset(values) for name, values in info["categories"].items()}


def verify(path: str | Path, info: str | Path | None = None) -> dict[str, Any]:
    """The metadata of a model saved by the train stage (`info`, default the JSON beside it),
    once the model file is found to have the SHA-256 recorded there; one-line errors otherwise."""
    path = Path(path)
    found = read_info(path, info)
    if not path.is_file():
        raise KaizenError(f"{path}: model file not found (run `dvc repro train` first)")
    if files.file_sha256(path) != found["model_sha256"]:
        name = Path(info).name if info is not None else info_path(path).name
        raise KaizenError(f"{path}: SHA-256 differs from {name} (wrong or corrupt)")
    return found


def load(path: str | Path, info: str | Path | None = None) -> Model:
    """Load a model saved by the train stage, checking its hash; one-line errors otherwise."""
    return unpickle(path, verify(path, info))


def unpickle(path: str | Path, info: dict[str, Any]) -> Model:
    """The model at `path` with its metadata `info`, as `verify(path)` returned it (the file
    hashed once: `kaizen predict` verifies, then reads while this imports scikit-learn)."""
    path = Path(path)
    try:
        pipeline = files.load_model(path)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # any unpickling failure
        raise KaizenError(f"{path}: corrupt model file ({type(exc).__name__})") from None
    return Model(
        pipeline=pipeline,
        schema=Schema.from_dict(info["schema"]),
        categories=categories(info),
        sha256=info["model_sha256"],
        schema_version=schema_version(info),
        explainer=Explainer(pipeline, info["reference"]),
    )
