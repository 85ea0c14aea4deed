"""The evaluate stage's pure core: an honest validation protocol for one trained model.

1. Cross-validation of the train config on the train split (stratified, seeded
   `evaluate.cv_folds` folds, refitting exactly what `train` fits): `cv.*` metrics, mean and
   standard error over folds, which model selection uses (`kaizen best`).
2. The decision threshold, tuned on those out-of-fold scores, never on the rows it is reported
   on; the Bayes threshold cost_fp / (cost_fp + cost_fn) beside it.
3. The test split (in-time) and the current part (out-of-time), scored by the saved model:
   discrimination, costs at both thresholds, and calibration back-tests.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from kaizen.pipeline import calibration as C
from kaizen.pipeline import metrics as M
from kaizen.config import EvaluateConfig, TrainConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.model import cross_validate, importance, predict_scores, projection

PCA_ROWS = 2000  # points in the PCA scatter (kept small: it lives in git)


class Evaluation(NamedTuple):
    """Everything the evaluate stage writes, computed."""

    summary: dict  # metrics.json, rounded
    scores: dict[str, pd.DataFrame]  # part -> y, score, indexed by the raw data row
    calibration: dict[str, pd.DataFrame]  # part -> calibration bucket table
    importance: pd.DataFrame
    projection: dict[str, pd.DataFrame]  # positive / negative -> pc1, pc2


def evaluate(
    pipeline,
    train_config: TrainConfig,
    schema: Schema,
    frames: dict[str, pd.DataFrame],
    config: EvaluateConfig,
    *,
    sources: dict[str, str] | None = None,
) -> Evaluation:
    """Validate `pipeline` (fitted with `train_config` on `frames["train"]`) on the test and
    current frames; an empty current frame is skipped. `sources` names the parts in errors."""
    oof = cross_validate(frames["train"], schema, train_config, config.cv_folds, config.seed)
    summary: dict = M.decision_threshold(oof["y"].to_numpy(), oof["score"].to_numpy(), config)
    summary["cv"] = M.cv_metrics(oof["y"], oof["score"], oof["fold"], config)
    scores, tables = {}, {}
    for part in ("test", "current"):
        frame = frames[part]
        if frame.empty:
            continue
        unlabelled = int(frame[schema.target].isna().sum())
        if unlabelled:  # only the current part may be unlabelled (ingest keeps the rest labelled)
            summary[f"{part}_skipped"] = (
                f"{part} part unlabelled ({unlabelled} of {len(frame)} rows without an outcome): "
                f"{part} metrics skipped"
            )
            continue
        y_true = frame[schema.target].to_numpy()
        score = predict_scores(pipeline, frame[schema.features])
        source = (sources or {}).get(part, part)
        values = M.part_metrics(y_true, score.to_numpy(), summary["threshold"], config, source)
        values["calibration"], tables[part] = C.back_test(y_true, score.to_numpy(), config.grades)
        summary[part] = values
        scores[part] = pd.DataFrame({"y": y_true, "score": score}, index=frame.index)
    table, views = model_views(pipeline, schema, frames["test"], config)
    return Evaluation(M.rounded(summary), scores, tables, table, views)


def model_views(
    pipeline, schema: Schema, test: pd.DataFrame, config: EvaluateConfig
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Permutation importance and the 2-D PCA projection of the test split, by class."""
    y_test = test[schema.target].to_numpy()
    table = importance(
        pipeline, test[schema.features], y_test, config.permutation_repeats, config.seed
    )
    points = projection(pipeline, test[schema.features].iloc[:PCA_ROWS], config.seed)
    labels = y_test[:PCA_ROWS].astype(bool)
    views = {
        name: pd.DataFrame(points[mask].round(5), columns=["pc1", "pc2"])
        for name, mask in (("positive", labels), ("negative", ~labels))
    }
    return table, views


def all_scores(scores: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every part's scores in one frame (part, row, y, score): the full, DVC-cached copy."""
    frames = [
        frame.reset_index().assign(part=part)[["part", "row", "y", "score"]]
        for part, frame in scores.items()
    ]
    if not frames:
        return pd.DataFrame(columns=["part", "row", "y", "score"])
    out = pd.concat(frames, ignore_index=True)
    out["y"] = out["y"].astype("int8")
    out["row"] = out["row"].astype("int64")
    return out


def thinned(frame: pd.DataFrame, cap: int) -> pd.DataFrame:
    """At most `cap` evenly spaced rows (first and last kept), for the copies kept in git."""
    return frame.iloc[M.evenly(len(frame), cap)]
