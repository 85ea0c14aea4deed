"""evaluate: in-time (test split) and out-of-time (current part) metrics, plots and scores."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from dvclive import Live
from sklearn.decomposition import PCA
from sklearn.inspection import permutation_importance

from kaizen import KaizenError, io
from kaizen import metrics as M
from kaizen.config import EvaluateConfig, Params
from kaizen.data import Schema
from kaizen.model import predict_scores

IMPORTANCE_ROWS = 5000  # permutation importance on at most this many test rows
PCA_ROWS = 2000  # points in the PCA scatter (kept small: it lives in git)
# Plot data and per-row scores live in git: past these sizes they are thinned (evenly spaced
# points / rows) so that large data sets do not write tens of MB; metrics use every row.
CURVE_POINTS = 2000  # points per ROC / precision-recall curve
ROW_CAP = 5000  # rows per part in the confusion-matrix plot data and in scores/*.csv
CURVES = ("roc", "precision_recall")


def part_metrics(
    y_true, score, threshold: float, config: EvaluateConfig, source: str = "a part"
) -> dict:
    """All metrics of one part at the decision threshold."""
    # Checked first: AUC, its bootstrap and KS are undefined with a single class.
    if len(np.unique(y_true)) < 2:
        raise KaizenError(f"evaluate: {source} has a single class; metrics need both")
    out = M.score_metrics(y_true, score, config.bootstrap, config.seed)
    out.update(M.at_threshold(y_true, score, threshold))
    out["cost"] = M.expected_cost(y_true, score, threshold, config.cost_fn, config.cost_fp)
    return out


def importance(pipeline, features: pd.DataFrame, y_true, config: EvaluateConfig) -> pd.DataFrame:
    """Permutation importance (drop in ROC AUC) of each input column."""
    y_true = np.asarray(y_true)
    if len(features) > IMPORTANCE_ROWS:
        rows = np.random.default_rng(config.seed).choice(len(features), IMPORTANCE_ROWS, False)
        features, y_true = features.iloc[np.sort(rows)], y_true[np.sort(rows)]
    result = permutation_importance(
        pipeline,
        features,
        y_true,
        scoring="roc_auc",
        n_repeats=config.permutation_repeats,
        random_state=config.seed,
    )
    table = pd.DataFrame(
        {
            "feature": features.columns,
            "importance": result.importances_mean.round(6),
            "std": result.importances_std.round(6),
        }
    )
    return table.sort_values("importance", ascending=False)


def projection(pipeline, features: pd.DataFrame, seed: int) -> np.ndarray:
    """2-D PCA projection of the preprocessed rows (the model's own PCA when it has 2 axes)."""
    steps = dict(pipeline.steps)
    if "pca" in steps and steps["pca"].n_components_ == 2:
        return pipeline[:-1].transform(features)
    prepared = pipeline[:2].transform(features)
    return PCA(n_components=2, random_state=seed).fit_transform(prepared)


def evenly(count: int, cap: int) -> np.ndarray:
    """At most `cap` evenly spaced positions in range(count), first and last included."""
    if count <= cap:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, cap).round().astype(int))


def _sanitize_plot(path: Path, max_points: int | None = None) -> None:
    """Replace non-finite numbers (dvclive writes ROC thresholds of Infinity) with null.

    With `max_points`, lists of points longer than that are thinned to evenly spaced points.
    """

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            keep = evenly(len(value), max_points) if max_points else range(len(value))
            return [clean(value[i]) for i in keep]
        return value

    content = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(clean(content), indent=2) + "\n", encoding="utf-8")


def decision_threshold(y_true, score, config: EvaluateConfig) -> dict:
    """The cost-optimal threshold on these rows, and the decision threshold params ask for."""
    optimal, optimal_cost = M.cost_optimal_threshold(y_true, score, config.cost_fn, config.cost_fp)
    return {
        "threshold": optimal if config.threshold == "cost" else float(config.threshold),
        "cost_optimal_threshold": optimal,
        "cost_optimal_cost": optimal_cost,
    }


def run(params: Params, model: str, schema_path: str, test: str, current: str, output: str) -> dict:
    """Score both parts, compute metrics and plots, write them all to the `output` folder."""
    config = params.evaluate
    schema = Schema.from_dict(io.read_json(schema_path))
    pipeline = io.load_model(model)
    parts = {"test": io.read_parquet(test), "current": io.read_parquet(current)}
    scores = {
        name: predict_scores(pipeline, frame[schema.features])
        for name, frame in parts.items()
        if len(frame)
    }
    y_test = parts["test"][schema.target].to_numpy()
    summary = decision_threshold(y_test, scores["test"].to_numpy(), config)
    threshold = summary["threshold"]
    with io.atomic_dir(output) as tmp:
        live = Live(str(tmp), dvcyaml=False, save_dvc_exp=False, report=None)
        for name, score in scores.items():
            y_true = parts[name][schema.target].to_numpy()
            summary[name] = part_metrics(
                y_true, score.to_numpy(), threshold, config, test if name == "test" else current
            )
            _log_part(live, tmp, name, y_true, score, threshold)
        live.summary = M.rounded(summary)
        live.make_summary()
        for path in (tmp / "plots" / "sklearn").rglob("*.json"):
            _sanitize_plot(path, CURVE_POINTS if path.parent.name in CURVES else None)
        _log_model_views(tmp, pipeline, parts["test"][schema.features], y_test, config)
        live.end()
    return M.rounded(summary)


def _log_part(live: Live, folder: Path, name: str, y_true, score: pd.Series, threshold: float):
    """Curves, confusion matrix, score histogram and per-row scores of one part."""
    values = score.to_numpy()
    for kind in ("roc", "precision_recall", "calibration"):
        live.log_sklearn_plot(kind, y_true, values, name=f"{kind}/{name}.json")
    keep = evenly(len(values), ROW_CAP)
    decision = (values[keep] >= threshold).astype(int)
    live.log_sklearn_plot(
        "confusion_matrix", y_true[keep], decision, name=f"confusion_matrix/{name}.json"
    )
    kept = score.iloc[keep]
    rows = pd.DataFrame({"y": y_true[keep], "score": kept.round(6)}, index=kept.index)
    io.write_csv(rows, folder / "scores" / f"{name}.csv")
    histogram = pd.DataFrame(M.score_histogram(y_true, values))
    io.write_csv(histogram, folder / "plots" / "score_distribution" / f"{name}.csv", False)


def _log_model_views(folder: Path, pipeline, features: pd.DataFrame, y_true, config):
    """Permutation importance and the 2-D PCA projection of the test set."""
    table = importance(pipeline, features, y_true, config)
    io.write_csv(table, folder / "plots" / "importance.csv", False)
    points = projection(pipeline, features.iloc[:PCA_ROWS], config.seed)
    labels = np.asarray(y_true)[:PCA_ROWS].astype(bool)
    for name, mask in (("positive", labels), ("negative", ~labels)):
        frame = pd.DataFrame(points[mask].round(5), columns=["pc1", "pc2"])
        io.write_csv(frame, folder / "plots" / "projection" / f"{name}.csv", False)
