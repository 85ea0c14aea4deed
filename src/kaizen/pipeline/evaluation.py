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

import numpy as np
import pandas as pd
from pydantic import ValidationError

from kaizen import KaizenError
from kaizen.pipeline import calibration as C
from kaizen.pipeline import metrics as M
from kaizen.config import EvaluateConfig, TrainConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.model import cross_validate, importance, predict_scores, projection

PCA_ROWS = 2000  # points in the PCA scatter (kept small: it lives in git)
# Plot data and the git copy of the per-row scores live in git: past these sizes they are
# thinned (evenly spaced points / rows); metrics use every row, and `--scores` (DVC-cached)
# keeps every row's score for the PR report's paired test.
CURVE_POINTS = 2000  # points per ROC / precision-recall curve
ROW_CAP = 5000  # rows per part in the confusion-matrix plot data
# Rows per part in scores/*.csv, the report's fallback when the base's full copy is not in the
# DVC cache. A commit of new scores adds 6.4 bytes per row to the packed repository (measured:
# bench/README.md, "Score copies"): 20,000 rows keep both parts under 0.3 MB per model change,
# 100,000 would add 1.3 MB, past 1 GB (GitHub's recommended repository size) in 1,000 changes.
SCORES_CAP = 20_000
CURVES = ("roc", "precision_recall")


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


def fitted_with(metadata: dict, source: str) -> TrainConfig:
    """The train params the model was fitted with (model.json), which cross-validation refits."""
    try:
        return TrainConfig.model_validate(metadata["params"])
    except (KeyError, TypeError, ValidationError):
        raise KaizenError(f"{source}: no valid train params (rerun `dvc repro train`)") from None


def decisions(frame: pd.DataFrame, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and 0/1 decisions at `threshold` of at most ROW_CAP rows: the confusion plot's."""
    kept = thinned(frame, ROW_CAP)
    return kept["y"].to_numpy(), (kept["score"].to_numpy() >= threshold).astype(int)


def csv_files(result: Evaluation) -> dict[str, tuple[pd.DataFrame, bool]]:
    """The CSV files evaluate writes beside dvclive's, by path in its output folder, each with
    whether its index is written: the capped score copies (indexed by data row), score
    histograms, calibration buckets, permutation importance and the PCA projection."""
    out = {}
    for name, frame in result.scores.items():
        copy = thinned(frame, SCORES_CAP)
        out[f"scores/{name}.csv"] = (copy.assign(score=copy["score"].round(6)), True)
        histogram = M.score_histogram(frame["y"].to_numpy(), frame["score"].to_numpy())
        out[f"plots/score_distribution/{name}.csv"] = (pd.DataFrame(histogram), False)
        out[f"plots/calibration/{name}.csv"] = (result.calibration[name].round(6), False)
    out["plots/importance.csv"] = (result.importance, False)
    for name, points in result.projection.items():
        out[f"plots/projection/{name}.csv"] = (points, False)
    return out


def clean_plot(content: dict, kind: str) -> dict:
    """dvclive's plot JSON fit for git: finite, 6 significant digits, curves thinned."""
    return M.clean_plot(content, CURVE_POINTS if kind in CURVES else None)
