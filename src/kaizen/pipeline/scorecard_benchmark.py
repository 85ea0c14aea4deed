"""The scorecard benchmark, always fitted beside the chosen model (the `scorecard` stage): the
industry model a validator compares the chosen one with, on the same split and folds as
`evaluate` (its CV and out-of-time ROC AUC), with its points table, IV per feature and checks.
When `train.model` is scorecard, this is the model itself (the same fit, deterministic)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from kaizen.config import EvaluateConfig, TrainConfig
from kaizen.pipeline import metrics as M
from kaizen.pipeline import model
from kaizen.pipeline import scorecard as S
from kaizen.pipeline import scorecard_checks as C
from kaizen.pipeline.data import Schema

POINTS_COLUMNS = [
    "feature", "bin", "points", "kind", "lower", "upper", "categories",
    "count", "share", "event_rate", "woe", "iv",
]  # fmt: skip


class Benchmark(NamedTuple):
    """What the scorecard stage writes."""

    summary: dict  # metrics: AUCs, checks
    points: pd.DataFrame  # the points table (one row per bin)
    features: pd.DataFrame  # per feature: IV, bins, points range
    checks: list[C.Check]


def benchmark(
    frames: dict[str, pd.DataFrame], schema: Schema, train: TrainConfig, evaluate: EvaluateConfig
) -> Benchmark:
    """Fit the scorecard on the train split; its CV (evaluate's folds and seed), test and current
    ROC AUC; its tables and checks (points summed on every row of every part)."""
    config = train.model_copy(update={"model": "scorecard", "calibration": "none"})
    config = config.model_copy(update={"pca": config.pca.model_copy(update={"n_components": None})})
    fitted = model.train(frames["train"], schema, config).pipeline
    oof = model.cross_validate(frames["train"], schema, config, evaluate.cv_folds, evaluate.seed)
    per_fold = [
        M.roc_auc(group["y"].to_numpy(), group["score"].to_numpy())
        for _, group in oof.groupby("fold")
    ]
    mean, se = M.mean_se(per_fold)
    summary: dict = {"cv": {"roc_auc": mean, "roc_auc_se": se, "folds": len(per_fold)}}
    for part in ("test", "current"):
        frame = frames[part]
        if frame.empty or frame[schema.target].isna().any():
            continue
        score = model.predict_scores(fitted, frame[schema.features]).to_numpy()
        summary[part] = {"roc_auc": M.roc_auc(frame[schema.target].to_numpy(), score)}
    points = S.table(fitted)
    every = pd.concat([frames[part][schema.features] for part in ("train", "test", "current")])
    checks = C.run(fitted, config.scorecard, every, points)
    summary.update(C.summary(checks))
    summary["features"] = int(points["feature"].nunique())
    return Benchmark(M.rounded(summary), points[POINTS_COLUMNS], per_feature(points), checks)


def per_feature(points: pd.DataFrame) -> pd.DataFrame:
    """The binning summary: per feature its IV, regular bins and points range."""
    regular = points[points["kind"] == S.REGULAR]
    table = pd.DataFrame(
        {
            "iv": S.information_values(points).round(6),
            "bins": regular.groupby("feature", sort=False).size(),
            "min_points": points.groupby("feature", sort=False)["points"].min(),
            "max_points": points.groupby("feature", sort=False)["points"].max(),
        }
    )
    return table.rename_axis("feature").reset_index().astype({"bins": np.int64})
