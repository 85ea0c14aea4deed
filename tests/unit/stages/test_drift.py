"""The drift stage: output files follow the contract, an empty current part still succeeds."""

import json

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.io import files
from kaizen.config import DriftConfig
from kaizen.drift.verdicts import SEVERITY, score_drift_test
from kaizen.pipeline.model import predict_scores
from kaizen.cli import main
from kaizen.stages import drift
from tests.unit.helpers import make_params

METRIC_KEYS = {
    "verdict",
    "rows_reference",
    "rows_current",
    "features_total",
    "features_drift",
    "features_warning",
    "drifted_share",
    "score_psi",
    "score_verdict",
    "target_rate_reference",
    "target_rate_current",
    "psi",
}
FEATURE_KEYS = {
    "feature",
    "kind",
    "psi",
    "test",
    "p_value",
    "distance",
    "distance_name",
    "missing_reference",
    "missing_current",
    "missing_change",
    "unseen",
    "unseen_share",
    "n_reference",
    "n_current",
    "components",
    "flags",
    "verdict",
    "method",
}


def run_stage(fitted, output, current=None, update=None):
    """Run the stage on the fitted artefacts (optionally another current file)."""
    return drift.run(
        make_params(update),
        reference=str(fitted.reference),
        current=str(current or fitted.current),
        test=str(fitted.test),
        schema=str(fitted.schema),
        model=str(fitted.model),
        info=str(fitted.info),
        output=str(output),
    )


def test_outputs_follow_the_contract(fitted, tmp_path):
    """metrics.json, features.json and summary.md with the agreed keys and types."""
    output = tmp_path / "drift"
    result = run_stage(fitted, output, update={"drift": {"min_rows": 10}})
    metrics = json.loads((output / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == METRIC_KEYS
    assert result == {key: value for key, value in metrics.items() if key != "psi"}
    assert metrics["features_total"] == 7 and set(metrics["psi"]) == {
        "Income",
        "Debt",
        "Amount",
        "Price",
        "Home",
        "debt_to_income",  # the model's engineered ratios are monitored too
        "amount_to_price",
    }
    assert isinstance(metrics["score_psi"], float)
    assert metrics["score_verdict"] in {"drift", "warning", "stable", "insufficient data"}
    assert 0 < metrics["target_rate_reference"] < 1
    features = json.loads((output / "features.json").read_text(encoding="utf-8"))
    assert [set(item) for item in features] == [FEATURE_KEYS] * 7
    severity = [SEVERITY[item["verdict"]] for item in features]
    assert severity == sorted(severity)
    assert {item["test"] for item in features} == {"chi2"}  # psi mode: chi-squared on its bins
    summary = (output / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith(f"**Dataset drift: {metrics['verdict']}**")
    for item in features:
        assert f"`{item['feature']}`" in summary


def test_empty_current_part_is_insufficient_data(fitted, tmp_path):
    """data.split: {by: none} leaves an empty current part: success, verdicts say so."""
    empty = tmp_path / "empty.parquet"
    files.write_parquet(pd.read_parquet(fitted.reference).iloc[:0], empty)
    output = tmp_path / "drift"
    result = run_stage(fitted, output, current=empty)
    assert result["verdict"] == "insufficient data"
    assert result["rows_current"] == 0
    assert result["score_psi"] is None and result["target_rate_current"] is None
    features = files.read_json(output / "features.json")
    assert {item["verdict"] for item in features} == {"insufficient data"}
    assert all(item["psi"] is None for item in features)
    assert "too few for a sound verdict" in (output / "summary.md").read_text(encoding="utf-8")


def test_missing_column_names_the_file(fitted, tmp_path):
    """A current part without a model column: one-line error naming the file; no output."""
    broken = tmp_path / "broken.parquet"
    files.write_parquet(pd.read_parquet(fitted.current).drop(columns=["Home"]), broken)
    with pytest.raises(KaizenError, match="broken.parquet.*Home"):
        run_stage(fitted, tmp_path / "drift", current=broken)
    assert not (tmp_path / "drift").exists()


def test_cli_runs_the_stage(fitted, tmp_path, capsys):
    """`kaizen drift` prints the metrics (without the per-feature PSI) as JSON."""
    output = tmp_path / "drift"
    code = main(
        [
            "--params",
            str(fitted.params),
            "drift",
            "--reference",
            str(fitted.reference),
            "--current",
            str(fitted.current),
            "--test",
            str(fitted.test),
            "--schema",
            str(fitted.schema),
            "--model",
            str(fitted.model),
            "--info",
            str(fitted.info),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdict"] == "insufficient data"  # 18 current rows: too little power
    assert (output / "summary.md").is_file()


def test_score_reference_is_the_test_split(fitted, tmp_path):
    """Score PSI compares the current part with the test split's (out-of-sample) scores."""
    output = tmp_path / "drift"
    result = run_stage(fitted, output, update={"drift": {"min_rows": 10}})
    model = files.load_model(fitted.model)
    schema = files.read_json(fitted.schema)
    features = schema["numeric"] + schema["categorical"]
    scores = [
        predict_scores(model, pd.read_parquet(path)[features])
        for path in (fitted.test, fitted.current)
    ]
    expected, _, _ = score_drift_test(*scores, DriftConfig(min_rows=10))
    assert result["score_psi"] == pytest.approx(expected, abs=1e-6)


def test_unlabelled_current_part_still_runs(fitted, tmp_path):
    """Recent applications without outcomes: drift runs, the current target rate is None."""
    unlabelled = tmp_path / "unlabelled.parquet"
    frame = pd.read_parquet(fitted.current)
    files.write_parquet(frame.assign(Status=np.nan), unlabelled)
    result = run_stage(fitted, tmp_path / "drift", current=unlabelled)
    assert result["rows_current"] == len(frame)
    assert result["target_rate_current"] is None and result["target_rate_reference"] > 0
