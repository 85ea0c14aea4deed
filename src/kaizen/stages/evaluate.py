"""evaluate: in-time (test split) and out-of-time (current part) metrics, plots and scores."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from dvclive import Live

from kaizen import files
from kaizen import metrics as M
from kaizen.config import EvaluateConfig, Params
from kaizen.data import Schema
from kaizen.model import importance, predict_scores, projection

HELP = "metrics, plots and scores on the test split and the current part (--output folder)"
PATHS = ("model", "schema", "test", "current", "output")
PCA_ROWS = 2000  # points in the PCA scatter (kept small: it lives in git)
# Plot data and per-row scores live in git: past these sizes they are thinned (evenly spaced
# points / rows) so that large data sets do not write tens of MB; metrics use every row.
CURVE_POINTS = 2000  # points per ROC / precision-recall curve
ROW_CAP = 5000  # rows per part in the confusion-matrix plot data and in scores/*.csv
CURVES = ("roc", "precision_recall")


def run(params: Params, *, model: str, schema: str, test: str, current: str, output: str) -> dict:
    """Score both parts, compute metrics and plots, write them all to the `output` folder."""
    config = params.evaluate
    layout = Schema.from_dict(files.read_json(schema))
    pipeline = files.load_model(model)
    parts = {"test": files.read_parquet(test), "current": files.read_parquet(current)}
    unlabelled = int(parts["current"][layout.target].isna().sum())
    scores = {
        name: predict_scores(pipeline, frame[layout.features])
        for name, frame in parts.items()
        if len(frame) and not (name == "current" and unlabelled)
    }
    y_test = parts["test"][layout.target].to_numpy()
    summary = M.decision_threshold(y_test, scores["test"].to_numpy(), config)
    if unlabelled:
        summary["current_skipped"] = (
            f"current part unlabelled ({unlabelled} of {len(parts['current'])} rows without an "
            "outcome): current metrics skipped"
        )
        print(f"kaizen evaluate: {summary['current_skipped']}", file=sys.stderr)
    threshold = summary["threshold"]
    with files.atomic_dir(output) as tmp:
        live = Live(str(tmp), dvcyaml=False, save_dvc_exp=False, report=None)
        for name, score in scores.items():
            y_true = parts[name][layout.target].to_numpy()
            summary[name] = M.part_metrics(
                y_true, score.to_numpy(), threshold, config, test if name == "test" else current
            )
            _log_part(live, tmp, name, y_true, score, threshold=threshold)
        live.summary = M.rounded(summary)
        live.make_summary()
        _clean_plots(tmp / "plots" / "sklearn")
        _log_model_views(tmp, pipeline, parts["test"][layout.features], y_test, config)
        live.end()
    return M.rounded(summary)


def _clean_plots(folder: Path) -> None:
    """Rewrite dvclive's plot JSON fit for git (finite, 6 significant digits, thinned curves)."""
    for path in folder.rglob("*.json"):
        content = json.loads(path.read_text(encoding="utf-8"))
        points = CURVE_POINTS if path.parent.name in CURVES else None
        files.write_json(M.clean_plot(content, points), path)


def _log_part(
    live: Live, folder: Path, name: str, y_true, score: pd.Series, *, threshold: float
) -> None:
    """Curves, confusion matrix, score histogram and per-row scores of one part."""
    values = score.to_numpy()
    for kind in ("roc", "precision_recall", "calibration"):
        live.log_sklearn_plot(kind, y_true, values, name=f"{kind}/{name}.json")
    keep = M.evenly(len(values), ROW_CAP)
    decision = (values[keep] >= threshold).astype(int)
    live.log_sklearn_plot(
        "confusion_matrix", y_true[keep], decision, name=f"confusion_matrix/{name}.json"
    )
    kept = score.iloc[keep]
    rows = pd.DataFrame({"y": y_true[keep], "score": kept.round(6)}, index=kept.index)
    files.write_csv(rows, folder / "scores" / f"{name}.csv")
    histogram = pd.DataFrame(M.score_histogram(y_true, values))
    files.write_csv(histogram, folder / "plots" / "score_distribution" / f"{name}.csv", False)


def _log_model_views(
    folder: Path, pipeline, features: pd.DataFrame, y_true, config: EvaluateConfig
) -> None:
    """Permutation importance and the 2-D PCA projection of the test set."""
    table = importance(pipeline, features, y_true, config.permutation_repeats, config.seed)
    files.write_csv(table, folder / "plots" / "importance.csv", False)
    points = projection(pipeline, features.iloc[:PCA_ROWS], config.seed)
    labels = np.asarray(y_true)[:PCA_ROWS].astype(bool)
    for name, mask in (("positive", labels), ("negative", ~labels)):
        frame = pd.DataFrame(points[mask].round(5), columns=["pc1", "pc2"])
        files.write_csv(frame, folder / "plots" / "projection" / f"{name}.csv", False)
