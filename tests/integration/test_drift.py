"""`dvc repro drift` on a data slice: runs after train, writes outputs that follow the contract."""

import pytest

pytestmark = pytest.mark.integration


def test_repro_drift_writes_the_contract(ran):
    """Metrics, sorted features and summary; the metrics file is declared to dvc."""
    project = ran  # the session's `dvc repro` on the 600-row slice (420 vs 180 rows)
    metrics = project.json("metrics/drift/metrics.json")
    assert metrics["rows_reference"] + metrics["rows_current"] <= 600
    assert metrics["features_total"] == len(metrics["psi"]) == 16  # 13 columns + 3 ratios
    assert metrics["verdict"] in {"drift", "warning", "stable", "insufficient data"}
    assert isinstance(metrics["score_psi"], float)
    features = project.json("metrics/drift/features.json")
    for item in features:  # the power guard: stable only with power 0.8 (the default)
        part = item["components"]["distribution"]
        if part["verdict"] == "stable":
            assert part["power"] >= 0.8
        elif part["verdict"] == "insufficient data":
            assert part["power"] < 0.8
    order = {"drift": 0, "warning": 1, "insufficient data": 2, "stable": 3}
    keys = [(order[item["verdict"]], -item["psi"]) for item in features]
    assert keys == sorted(keys)
    assert {item["kind"] for item in features} == {"numeric", "categorical"}
    summary = (project.path / "metrics/drift/summary.md").read_text(encoding="utf-8")
    assert summary.startswith(f"**Dataset drift: {metrics['verdict']}**")
    shown = project.run("dvc", "metrics", "show", "--json").stdout
    assert "metrics/drift/metrics.json" in shown
    assert "up to date" in project.run("dvc", "status", "drift").stdout
