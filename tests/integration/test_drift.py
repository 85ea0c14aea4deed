"""`dvc repro drift` on a data slice: runs after train, writes outputs that follow the contract."""

import pytest

pytestmark = pytest.mark.integration


def test_repro_drift_writes_the_contract(ran):
    """Metrics, sorted features and summary; the metrics file is declared to dvc."""
    project = ran  # the session's `dvc repro` (drift.min_rows lowered for the 600-row slice)
    metrics = project.json("metrics/drift/metrics.json")
    assert metrics["rows_reference"] + metrics["rows_current"] <= 600
    assert metrics["features_total"] == len(metrics["psi"]) == 16  # 13 columns + 3 ratios
    assert metrics["verdict"] in {"drift", "warning", "stable"}
    assert (
        isinstance(metrics["score_psi"], float) and metrics["score_verdict"] != "insufficient data"
    )
    features = project.json("metrics/drift/features.json")
    order = {"drift": 0, "warning": 1, "insufficient data": 2, "stable": 3}
    keys = [(order[item["verdict"]], -item["psi"]) for item in features]
    assert keys == sorted(keys)
    assert {item["kind"] for item in features} == {"numeric", "categorical"}
    summary = (project.path / "metrics/drift/summary.md").read_text(encoding="utf-8")
    assert summary.startswith(f"**Dataset drift: {metrics['verdict']}**")
    shown = project.run("dvc", "metrics", "show", "--json").stdout
    assert "metrics/drift/metrics.json" in shown
    assert "up to date" in project.run("dvc", "status", "drift").stdout
