"""The scorecard stage: the benchmark beside the model, its tables, checks and AUCs."""

from __future__ import annotations

import pandas as pd

from kaizen.io import files
from kaizen.pipeline import scorecard_checks as C
from kaizen.stages import scorecard
from tests.unit.helpers import make_params


def test_stage_writes_points_features_checks_and_metrics(fitted, tmp_path):
    """Points table (feature, bin, points...), IV per feature, 7 named checks, CV/test/current
    ROC AUC, on the same split as evaluate, whatever train.model is."""
    paths = {name: tmp_path / f"{name}.csv" for name in ("points", "features", "checks")}
    metrics = tmp_path / "scorecard.json"
    result = scorecard.run(
        make_params({"train": {"model": "hgb"}}),
        train=str(fitted.train),
        test=str(fitted.test),
        current=str(fitted.current),
        schema=str(fitted.schema),
        metrics=str(metrics),
        **{name: str(path) for name, path in paths.items()},
    )
    assert files.read_json(metrics) == result
    assert set(result) >= {"cv", "test", "current", "checks", "checks_passed", "checks_failed"}
    assert 0 <= result["test"]["roc_auc"] <= 1 and result["cv"]["folds"] == 5
    points = pd.read_csv(paths["points"])
    assert list(points.columns[:3]) == ["feature", "bin", "points"]
    assert set(points["feature"]) == set(pd.read_csv(paths["features"])["feature"])
    checks = pd.read_csv(paths["checks"])
    assert list(checks["check"]) == list(C.NAMES)
    assert result["checks_passed"] == int(checks["passed"].sum())
