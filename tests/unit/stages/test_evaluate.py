"""evaluate: metrics, plots and scores of the test split and the current part."""

import json

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen import files
from kaizen import metrics as M
from kaizen.config import EvaluateConfig
from kaizen.data import Schema
from kaizen import model
from kaizen.model import build_pipeline, predict_scores
from kaizen.stages import evaluate
from tests.unit.helpers import credit_frame, make_params

SCHEMA = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])
CONFIG = EvaluateConfig(bootstrap=10, permutation_repeats=1)


def fit(update=None, rows: int = 40):
    """A pipeline fitted on the synthetic table, with its features and 0/1 target."""
    frame = credit_frame(rows)
    X, y = frame[SCHEMA.features], (frame["Status"] == "bad").astype(int).to_numpy()
    return build_pipeline(SCHEMA, make_params({"train": update or {}}).train)[0].fit(X, y), X, y


def run(fitted, output, update=None, current=None) -> dict:
    """Run the evaluate stage on the shared model into `output`."""
    return evaluate.run(
        make_params(update),
        model=str(fitted.model),
        schema=str(fitted.schema),
        test=str(fitted.test),
        current=str(current or fitted.current),
        output=str(output),
    )


def reject_constant(name: str):
    """json.loads hook: fail on Infinity, -Infinity or NaN (not strict JSON)."""
    raise ValueError(f"non-finite constant {name} in plot JSON")


@pytest.fixture(scope="module", name="evaluated")
def fixture_evaluated(fitted, tmp_path_factory):
    """One evaluate run on the shared model: (summary, output folder)."""
    output = tmp_path_factory.mktemp("evaluate") / "out"
    return run(fitted, output), output


def test_run_summary_matches_scores(fitted, evaluated):
    """metrics.json equals the returned summary; AUC and threshold agree with the scores."""
    summary, output = evaluated
    assert files.read_json(output / "metrics.json") == summary
    test = files.read_parquet(fitted.test)
    scores = pd.read_csv(output / "scores" / "test.csv", index_col="row")
    assert list(scores.index) == list(test.index)
    assert scores["y"].tolist() == test["Status"].tolist()
    assert summary["test"]["roc_auc"] == pytest.approx(
        M.roc_auc(scores["y"], scores["score"]), abs=1e-5
    )
    optimal, _ = M.cost_optimal_threshold(scores["y"], scores["score"], 5.0, 1.0)
    assert (
        summary["threshold"]
        == summary["cost_optimal_threshold"]
        == pytest.approx(optimal, abs=1e-6)
    )
    for part in ("test", "current"):
        values = summary[part]
        assert values["tp"] + values["fp"] + values["tn"] + values["fn"] == values["rows"]
        assert 0 <= values["roc_auc_low"] <= values["roc_auc"] <= values["roc_auc_high"] <= 1
    assert summary["current"]["rows"] == len(files.read_parquet(fitted.current))


def test_run_writes_plots_without_infinity(evaluated):
    """Every plot file exists; sklearn plot JSON is strict JSON (no Infinity/NaN)."""
    _, output = evaluated
    for kind in ("roc", "precision_recall", "calibration", "confusion_matrix"):
        for part in ("test", "current"):
            path = output / "plots" / "sklearn" / kind / f"{part}.json"
            text = path.read_text(encoding="utf-8")
            assert "Infinity" not in text and "NaN" not in text
            json.loads(text, parse_constant=reject_constant)
    histogram = pd.read_csv(output / "plots" / "score_distribution" / "test.csv")
    assert len(histogram) == 20
    assert histogram["positive"].sum() == pytest.approx(1, abs=1e-4)
    importance = pd.read_csv(output / "plots" / "importance.csv")
    assert sorted(importance["feature"]) == sorted(SCHEMA.features)
    assert importance["importance"].is_monotonic_decreasing
    points = sum(
        len(pd.read_csv(output / "plots" / "projection" / f"{name}.csv"))
        for name in ("positive", "negative")
    )
    assert points == summary_rows(evaluated, "test")
    assert not list(output.parent.glob(".out.*"))


def summary_rows(evaluated, part: str) -> int:
    """Row count of a part in the evaluate summary."""
    return evaluated[0][part]["rows"]


def test_run_fixed_threshold_and_empty_current(fitted, tmp_path):
    """A numeric threshold is used as is; an empty current part is skipped."""
    empty = tmp_path / "empty.parquet"
    files.write_parquet(files.read_parquet(fitted.current).iloc[:0], empty)
    summary = run(fitted, tmp_path / "out", {"evaluate": {"threshold": 0.5}}, empty)
    assert summary["threshold"] == 0.5
    assert "current" not in summary
    assert not (tmp_path / "out" / "scores" / "current.csv").exists()
    test = summary["test"]
    scores = pd.read_csv(tmp_path / "out" / "scores" / "test.csv")
    assert test["tp"] == int(((scores["score"] >= 0.5) & (scores["y"] == 1)).sum())


def test_run_failure_leaves_previous_output(fitted, tmp_path):
    """A one-class current part fails the run and the previous output folder stays intact."""
    output = tmp_path / "out"
    output.mkdir()
    (output / "metrics.json").write_text('{"old": true}\n', encoding="utf-8")
    current = files.read_parquet(fitted.current)
    one_class = tmp_path / "one.parquet"
    files.write_parquet(current[current["Status"] == 0], one_class)
    with pytest.raises(KaizenError) as caught:
        run(fitted, output, current=one_class)
    assert str(caught.value) == f"evaluate: {one_class} has a single class; metrics need both"
    assert [p.name for p in output.iterdir()] == ["metrics.json"]
    assert (output / "metrics.json").read_text(encoding="utf-8") == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.parquet", "out"]


def test_part_metrics():
    """Threshold-free metrics plus counts and cost at the threshold."""
    y = np.array([0, 1, 0, 1])
    score = np.array([0.2, 0.7, 0.6, 0.9])
    out = M.part_metrics(y, score, 0.65, CONFIG)
    assert out["roc_auc"] == 1.0 and out["tp"] == 2 and out["fp"] == 0 and out["cost"] == 0.0
    out = M.part_metrics(y, score, 0.5, CONFIG)
    assert out["fp"] == 1 and out["cost"] == pytest.approx(1 / 4)
    with pytest.raises(KaizenError, match="^evaluate: a part has a single class"):
        M.part_metrics(np.ones(3), np.ones(3) / 2, 0.5, CONFIG)
    with pytest.raises(KaizenError, match="^evaluate: t.parquet has a single class"):
        M.part_metrics(np.zeros(3), np.ones(3) / 2, 0.5, CONFIG, "t.parquet")


def test_decision_threshold():
    """'cost' uses the cost-optimal threshold; a number is used as is; both are reported."""
    y = np.array([0, 0, 1, 1, 0])
    score = np.array([0.1, 0.3, 0.35, 0.8, 0.6])
    optimal, cost = M.cost_optimal_threshold(y, score, 5.0, 1.0)
    assert M.decision_threshold(y, score, CONFIG) == {
        "threshold": optimal,
        "cost_optimal_threshold": optimal,
        "cost_optimal_cost": cost,
    }
    fixed = M.decision_threshold(y, score, EvaluateConfig(threshold=0.7))
    assert fixed["threshold"] == 0.7 and fixed["cost_optimal_threshold"] == optimal


def test_importance_subsamples_large_tests(monkeypatch):
    """At most IMPORTANCE_ROWS rows are permuted; one row per input column, sorted."""
    pipeline, X, y = fit()
    table = model.importance(pipeline, X, y, CONFIG.permutation_repeats, CONFIG.seed)
    assert list(table.columns) == ["feature", "importance", "std"]
    assert sorted(table["feature"]) == sorted(X.columns)
    monkeypatch.setattr(model, "IMPORTANCE_ROWS", 20)
    small = model.importance(pipeline, X, y, CONFIG.permutation_repeats, CONFIG.seed)
    assert len(small) == len(X.columns)
    assert not small["importance"].equals(table.set_index(table.index)["importance"])


def test_projection_uses_model_pca_when_two_axes():
    """With a 2-axis PCA step the model's own projection is used; otherwise a fresh PCA."""
    pipeline, X, _ = fit({"pca": {"n_components": 2}})
    points = model.projection(pipeline, X, 0)
    np.testing.assert_allclose(points, pipeline[:-1].transform(X))
    plain, X, _ = fit()
    points = model.projection(plain, X, 0)
    assert points.shape == (len(X), 2)
    prepared = plain[:2].transform(X)
    variance = np.var(points, axis=0)
    assert variance[0] >= variance[1]
    assert variance.sum() <= np.var(prepared, axis=0).sum() + 1e-9
    three, X, _ = fit({"pca": {"n_components": 3}})
    assert model.projection(three, X, 0).shape == (len(X), 2)


def test_sanitize_plot():
    """Infinity and NaN anywhere in the JSON become null; other values are kept."""
    raw = '{"roc": [{"fpr": 0.0, "threshold": Infinity}, {"x": [NaN, 1]}], "n": "a"}'
    content = M.clean_plot(json.loads(raw))
    assert content == {"roc": [{"fpr": 0.0, "threshold": None}, {"x": [None, 1]}], "n": "a"}


def test_plot_floats_keep_six_significant_digits():
    """Last-bit float noise (another CPU) does not reach the plot files kept in git."""
    noisy = {"roc": [{"fpr": 0.12345678901, "tpr": 0.9999999999999998, "n": 3}]}
    twin = {"roc": [{"fpr": 0.12345678901000002, "tpr": 0.9999999999999999, "n": 3}]}
    assert (
        M.clean_plot(noisy)
        == M.clean_plot(twin)
        == {"roc": [{"fpr": 0.123457, "tpr": 1.0, "n": 3}]}
    )


def test_scores_follow_model(fitted, evaluated):
    """Stored scores equal a fresh scoring of the test split (rounded to 6 digits)."""
    _, output = evaluated
    pipeline = files.load_model(fitted.model)
    test = files.read_parquet(fitted.test)
    expected = predict_scores(pipeline, test[SCHEMA.features]).round(6)
    stored = pd.read_csv(output / "scores" / "test.csv", index_col="row")["score"]
    np.testing.assert_allclose(stored.to_numpy(), expected.to_numpy(), atol=1e-6)


def test_evenly():
    """All positions up to the cap; beyond it, evenly spaced with both ends kept."""
    assert M.evenly(4, 10).tolist() == [0, 1, 2, 3]
    kept = M.evenly(101, 5)
    assert kept.tolist() == [0, 25, 50, 75, 100]
    kept = M.evenly(1000, 7)
    assert kept[0] == 0 and kept[-1] == 999 and len(kept) == 7
    assert (np.diff(kept) > 0).all()


def test_sanitize_plot_thins_long_lists():
    """With max_points, long point lists keep evenly spaced points (ends included)."""
    points = [
        {"fpr": i / 10, "threshold": float("inf") if i == 0 else 1 - i / 10} for i in range(11)
    ]
    kept = M.clean_plot({"roc": points}, max_points=3)["roc"]
    assert [p["fpr"] for p in kept] == [0.0, 0.5, 1.0]
    assert kept[0]["threshold"] is None


def test_run_caps_rows_and_curve_points(fitted, tmp_path, monkeypatch):
    """Past ROW_CAP / CURVE_POINTS the stored scores and curves are thinned; metrics are not."""
    monkeypatch.setattr(evaluate, "ROW_CAP", 5)
    monkeypatch.setattr(evaluate, "CURVE_POINTS", 4)
    summary = run(fitted, tmp_path / "out")
    scores = pd.read_csv(tmp_path / "out" / "scores" / "current.csv")
    assert len(scores) == 5 < summary["current"]["rows"]
    roc = tmp_path / "out" / "plots" / "sklearn" / "roc" / "current.json"
    roc = json.loads(roc.read_text(encoding="utf-8"))
    assert len(roc["roc"]) <= 4
    matrix = tmp_path / "out" / "plots" / "sklearn" / "confusion_matrix" / "current.json"
    assert len(json.loads(matrix.read_text(encoding="utf-8"))) == 5
