"""scorecard: the industry scorecard benchmark beside the chosen model, on the same split and
folds: its points table, IV per feature, validator checks and CV / test / current ROC AUC."""

from __future__ import annotations

import logging

import pandas as pd

from kaizen.config import Params
from kaizen.io import files
from kaizen.pipeline.data import Schema
from kaizen.pipeline.scorecard_benchmark import benchmark

HELP = "scorecard benchmark: points table, IV, validator checks, CV and out-of-time AUC"
PATHS = ("train", "test", "current", "schema", "points", "features", "checks", "metrics")
log = logging.getLogger(__name__)


def run(  # pylint: disable=too-many-arguments  # one keyword per path dvc.yaml passes
    params: Params,
    *,
    train: str,
    test: str,
    current: str,
    schema: str,
    points: str,
    features: str,
    checks: str,
    metrics: str,
) -> dict:
    """Fit and check the scorecard; write its tables (CSV) and metrics (JSON)."""
    frames = {"train": train, "test": test, "current": current}
    result = benchmark(
        {part: files.read_parquet(path) for part, path in frames.items()},
        Schema.from_dict(files.read_json(schema)),
        params.train,
        params.evaluate,
    )
    for check in result.checks:
        if not check.passed:
            log.warning("scorecard check %s failed: %s", check.name, check.detail)
    rows = [{"check": c.name, "passed": c.passed, "detail": c.detail} for c in result.checks]
    files.write_csv(result.points, points, index=False)
    files.write_csv(result.features, features, index=False)
    files.write_csv(pd.DataFrame(rows), checks, index=False)
    files.write_json(result.summary, metrics)
    return result.summary
