"""`dvc repro` end to end on a slice of the data, in a temporary git + dvc repository."""

import pytest

pytestmark = pytest.mark.integration


def test_repro_writes_every_output(project):
    """A cold run produces the model, metrics and plot data, and dvc reports it up to date."""
    project.run("dvc", "repro")
    for relative in (
        "models/model.joblib",
        "models/model.json",
        "metrics/ingest.json",
        "metrics/train.json",
        "metrics/evaluate/metrics.json",
        "metrics/evaluate/scores/test.csv",
    ):
        assert (project.path / relative).is_file(), relative
    summary = project.json("metrics/evaluate/metrics.json")
    assert 0.6 < summary["current"]["roc_auc"] <= 1
    assert "up to date" in project.run("dvc", "status").stdout
