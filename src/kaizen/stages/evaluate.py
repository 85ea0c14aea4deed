"""evaluate: cross-validation on the train split, the out-of-fold decision threshold, and
in-time (test split) and out-of-time (current part) metrics, calibration back-tests and scores."""

from __future__ import annotations

import logging
from pathlib import Path

from dvclive import Live

from kaizen.bundle import scoring
from kaizen.io import files
from kaizen.config import Params
from kaizen.pipeline import evaluation as E
from kaizen.pipeline.data import Schema

HELP = "cross-validation, threshold, metrics, calibration and scores (--output folder)"
PATHS = ("model", "info", "schema", "train", "test", "current", "output", "scores")
log = logging.getLogger(__name__)


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
    result = E.evaluate(
        scoring.load(model, info).pipeline,  # its SHA-256 checked against `info`
        E.fitted_with(files.read_json(info), info),
        layout,
        frames,
        params.evaluate,
        sources={"test": test, "current": current},
    )
    with files.atomic_dir(output) as tmp:
        _write(tmp, result)
        files.write_parquet(E.all_scores(result.scores), scores)
    return result.summary


def _write(folder: Path, result: E.Evaluation) -> None:
    """metrics.json and the curve and confusion plots (dvclive), then the CSV tables."""
    live = Live(str(folder), dvcyaml=False, save_dvc_exp=False, report=None)
    threshold = result.summary["threshold"]
    for name, frame in result.scores.items():
        y_true, values = frame["y"].to_numpy(), frame["score"].to_numpy()
        for kind in E.CURVES:
            live.log_sklearn_plot(kind, y_true, values, name=f"{kind}/{name}.json")
        y_kept, decided = E.decisions(frame, threshold)
        live.log_sklearn_plot(
            "confusion_matrix", y_kept, decided, name=f"confusion_matrix/{name}.json"
        )
    live.summary = result.summary
    live.make_summary()
    for path in (folder / "plots" / "sklearn").rglob("*.json"):
        files.write_json(E.clean_plot(files.read_json(path), path.parent.name), path)
    for name, (table, index) in E.csv_files(result).items():
        files.write_csv(table, folder / name, index)
    live.end()
