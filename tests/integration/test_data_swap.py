"""The pipeline on another data set, pointed at it through `data.*` in params.yaml only."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.integration

ROWS = 400


def write_loans(path: Path) -> None:
    """A synthetic loan book: other column names, `;` separator, 0/1 target, gaps, a category."""
    rng = np.random.default_rng(7)
    revenue = rng.lognormal(7.5, 0.5, ROWS).round(0)
    tenure = rng.integers(0, 30, ROWS).astype(float)
    loan = rng.uniform(500, 5000, ROWS).round(0)
    region = rng.choice(["north", "south", "east", "west"], ROWS)
    logit = -2.5 + 1.5 * loan / revenue - 0.08 * tenure + 0.8 * (region == "south")
    default = (rng.random(ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    revenue[rng.random(ROWS) < 0.05] = np.nan
    tenure[rng.random(ROWS) < 0.05] = np.nan
    frame = pd.DataFrame(
        {
            "revenue": revenue,
            "tenure_years": tenure,
            "loan_amount": loan,
            "region": region,
            "default": default,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep=";", index=False)


def test_other_data_without_current_part(project):
    """Only `data.*` changes; ratios on absent columns are skipped; evaluate works on test only."""
    write_loans(project.path / "data/raw/loans.csv")
    data = {"path": "data/raw/loans.csv", "target": "default", "positive": 1, "separator": ";"}
    project.set_params({"data": {**data, "split": {"by": "none"}}})
    result = project.run("dvc", "repro")
    ratios = [ratio["name"] for ratio in project.params()["train"]["features"]["ratios"]]
    for name in ratios:
        assert f"ratio {name!r} skipped" in result.stdout + result.stderr

    facts = project.json("metrics/ingest.json")
    assert facts["rows"] == ROWS and facts["numeric"] == 3 and facts["categorical"] == 1
    assert facts["reference"]["rows"] == ROWS and facts["current"]["rows"] == 0
    assert 0 < facts["reference"]["missing_share"] < 0.05
    info = project.json("models/model.json")
    assert info["schema"]["target"] == "default"
    assert info["schema"]["categorical"] == ["region"]
    assert info["ratios_skipped"] == ratios

    summary = project.json("metrics/evaluate/metrics.json")
    assert "current" not in summary
    test = summary["test"]
    assert test["rows"] == ROWS // 4
    assert 0.65 < test["roc_auc"] <= 1
    assert test["roc_auc_low"] <= test["roc_auc"] <= test["roc_auc_high"]
    assert test["tp"] + test["fp"] + test["tn"] + test["fn"] == test["rows"]
    assert not (project.path / "metrics/evaluate/scores/current.csv").exists()
    assert "up to date" in project.run("dvc", "status").stdout

    # New applications in the same `;` format score as evaluate scored the test rows.
    expected = pd.read_csv(project.path / "metrics/evaluate/scores/test.csv", index_col="row")
    raw = pd.read_csv(project.path / "data/raw/loans.csv", sep=";", dtype=str)
    raw.index = raw.index + 1  # 1-based data rows, as kept by ingest
    new = project.path / "new.csv"
    raw.loc[expected.index].drop(columns="default").to_csv(new, sep=";", index=False)
    project.run(
        *("env", "PYTHONPATH=src", "python", "-m", "kaizen", "predict", "--separator", ";"),
        *("--input", str(new), "--output", "scored.csv"),
    )
    scored = pd.read_csv(project.path / "scored.csv")
    np.testing.assert_allclose(scored["score"], expected["score"], atol=2e-6)
