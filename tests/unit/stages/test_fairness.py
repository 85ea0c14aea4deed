"""fairness stage: the files it writes, the flag for a protected column in the model, bad input."""

import json

import pandas as pd

from tests.unit.helpers import make_params, run_fairness


def test_outputs_of_the_session_run(bundled):
    """metrics.json (DVC metrics), report.json, report.md and the plot rows, with Home flagged
    as a protected column the model uses."""
    folder = bundled.parent / "fairness"
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["protected_in_model"] == 1 and "Home" in metrics
    assert set(metrics["Home"]) == {"test", "current"}
    text = (folder / "report.md").read_text(encoding="utf-8")
    assert "**Protected attributes used by the model: Home**" in text
    assert "not a legal verdict" in text and "Reason-code stability" in text
    plot = pd.read_csv(folder / "plots" / "approval.csv")
    assert list(plot.columns) == ["group", "part", "approval_rate", "low", "high", "n"]
    assert plot["group"].str.startswith("Home: ").all()
    assert ((plot["low"] <= plot["approval_rate"]) & (plot["approval_rate"] <= plot["high"])).all()


def test_a_declared_column_the_data_lacks_is_named_not_fatal(bundled, fitted, tmp_path, caplog):
    """A protected column that is not in the data (own data without the default's Age): a
    warning naming it, and the other declared attributes are still analysed."""
    declared = [{"column": "Gender"}, {"column": "Home"}]
    params = make_params({"fairness": {"protected": declared}})
    with caplog.at_level("WARNING"):
        run_fairness(params, fitted, bundled.parent, tmp_path / "out")
    assert "fairness.protected: column 'Gender' is not in the data: not analysed" in caplog.text
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert list(report["attributes"]) == ["Home"]
