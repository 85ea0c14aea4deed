"""evaluate: cross-validation on the train split, the out-of-fold decision threshold, and
in-time (test split) and out-of-time (current part) metrics, calibration back-tests and scores."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from dvclive import Live
from pydantic import ValidationError

from kaizen import KaizenError
from kaizen.io import files
from kaizen.pipeline import metrics as M
from kaizen.config import Params, TrainConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.evaluation import Evaluation, all_scores, evaluate, thinned

HELP = "cross-validation, threshold, metrics, calibration and scores (--output folder)"
PATHS = ("model", "info", "schema", "train", "test", "current", "output", "scores")
log = logging.getLogger(__name__)
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


def run(  # pylint: disable=too-many-arguments  # one keyword per path dvc.yaml passes
    params: Params,
    *,
    model: str,
    info: str,
    schema: str,
    train: str,
    test: str,
    current: str,
    output: str,
    scores: str,
) -> dict:
    """Validate the saved model; write metrics, plots and capped scores to `output` (git) and
    every row's score to `scores` (DVC cache)."""
    layout = Schema.from_dict(files.read_json(schema))
    frames = {
        "train": files.read_parquet(train),
        "test": files.read_parquet(test),
        "current": files.read_parquet(current),
    }
    unlabelled = int(frames["current"][layout.target].isna().sum())
    if unlabelled:  # recent applications without outcomes: drift runs, evaluate says so
        log.warning(
            "current part unlabelled (%d of %d rows without an outcome): current metrics skipped",
            unlabelled,
            len(frames["current"]),
        )
    result = evaluate(
        files.load_model(model),
        train_config(files.read_json(info), info),
        layout,
        frames,
        params.evaluate,
        sources={"test": test, "current": current},
    )
    with files.atomic_dir(output) as tmp:
        _write(tmp, result)
        files.write_parquet(all_scores(result.scores), scores)
    return result.summary


def train_config(metadata: dict, source: str) -> TrainConfig:
    """The train params the model was fitted with (model.json), which cross-validation refits."""
    try:
        return TrainConfig.model_validate(metadata["params"])
    except (KeyError, TypeError, ValidationError):
        raise KaizenError(f"{source}: no valid train params (rerun `dvc repro train`)") from None


def _write(folder: Path, result: Evaluation) -> None:
    """metrics.json (dvclive), plot data and the git copy of the scores."""
    live = Live(str(folder), dvcyaml=False, save_dvc_exp=False, report=None)
    threshold = result.summary["threshold"]
    for name, frame in result.scores.items():
        y_true, values = frame["y"].to_numpy(), frame["score"].to_numpy()
        for kind in CURVES:
            live.log_sklearn_plot(kind, y_true, values, name=f"{kind}/{name}.json")
        kept = thinned(frame, ROW_CAP)
        decision = (kept["score"].to_numpy() >= threshold).astype(int)
        live.log_sklearn_plot(
            "confusion_matrix", kept["y"].to_numpy(), decision, name=f"confusion_matrix/{name}.json"
        )
        copy = thinned(frame, SCORES_CAP)
        files.write_csv(
            copy.assign(score=copy["score"].round(6)), folder / "scores" / f"{name}.csv"
        )
        histogram = pd.DataFrame(M.score_histogram(y_true, values))
        plots = folder / "plots"
        files.write_csv(histogram, plots / "score_distribution" / f"{name}.csv", False)
        table = result.calibration[name].round(6)
        files.write_csv(table, plots / "calibration" / f"{name}.csv", False)
    live.summary = result.summary
    live.make_summary()
    _clean_plots(folder / "plots" / "sklearn")
    files.write_csv(result.importance, folder / "plots" / "importance.csv", False)
    for name, points in result.projection.items():
        files.write_csv(points, folder / "plots" / "projection" / f"{name}.csv", False)
    live.end()


def _clean_plots(folder: Path) -> None:
    """Rewrite dvclive's plot JSON fit for git (finite, 6 significant digits, thinned curves)."""
    for path in folder.rglob("*.json"):
        content = json.loads(path.read_text(encoding="utf-8"))
        points = CURVE_POINTS if path.parent.name in CURVES else None
        files.write_json(M.clean_plot(content, points), path)
