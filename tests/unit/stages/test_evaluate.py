"""evaluate: metrics, plots and scores of the test split and the current part."""

import json

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError, cli
from kaizen.io import files
from kaizen.pipeline import evaluation as E
from kaizen.pipeline import metrics as M
from kaizen.config import EvaluateConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.model import build_pipeline, cross_validate, predict_scores
from kaizen.stages import evaluate
from tests.unit.helpers import credit_frame, make_params

SCHEMA = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])
CONFIG = EvaluateConfig(bootstrap=10, permutation_repeats=1)


def fit(update=None, rows: int = 40):
    """A pipeline fitted on the synthetic table, with its features and 0/1 target."""
    frame = credit_frame(rows)
    X, y = frame[SCHEMA.features], (frame["Status"] == "bad").astype(int).to_numpy()
    return build_pipeline(SCHEMA, make_params({"train": update or {}}).train)[0].fit(X, y), X, y


def run(fitted, output, update=None, current=None, info=None) -> dict:
    """Run the evaluate stage on the shared model into `output` (full scores beside it)."""
    return evaluate.run(
        make_params(update),
        model=str(fitted.model),
        info=str(info or fitted.info),
        schema=str(fitted.schema),
        train=str(fitted.train),
        test=str(fitted.test),
        current=str(current or fitted.current),
        output=str(output),
        scores=str(output.parent / f"{output.name}-scores.parquet"),
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
    """metrics.json equals the returned summary; AUC agrees with the scores; the threshold is
    the cost optimum of the train split's out-of-fold scores, not of the test rows."""
    summary, output = evaluated
    assert files.read_json(output / "metrics.json") == summary
    test = files.read_parquet(fitted.test)
    scores = pd.read_csv(output / "scores" / "test.csv", index_col="row")
    assert list(scores.index) == list(test.index)
    assert scores["y"].tolist() == test["Status"].tolist()
    assert summary["test"]["roc_auc"] == pytest.approx(
        M.roc_auc(scores["y"], scores["score"]), abs=1e-5
    )
    train = files.read_parquet(fitted.train)
    oof = cross_validate(train, SCHEMA, make_params().train, 5, 42)
    optimal, _ = M.cost_optimal_threshold(oof["y"], oof["score"], 5.0, 1.0)
    assert (
        summary["threshold"]
        == summary["cost_optimal_threshold"]
        == pytest.approx(optimal, abs=1e-6)
    )
    assert summary["bayes_threshold"] == pytest.approx(1 / 6, abs=1e-6)
    assert summary["cv"]["folds"] == 5 and summary["cv"]["rows"] == len(train)
    assert summary["cv"]["roc_auc"] == pytest.approx(
        np.mean([M.roc_auc(f["y"], f["score"]) for _, f in oof.groupby("fold")]), abs=1e-6
    )
    for part in ("test", "current"):
        values = summary[part]
        assert values["tp"] + values["fp"] + values["tn"] + values["fn"] == values["rows"]
        assert 0 <= values["roc_auc_low"] <= values["roc_auc"] <= values["roc_auc_high"] <= 1
        assert {"hl_statistic", "hl_pvalue", "slope", "intercept", "ece"} <= set(
            values["calibration"]
        )
        table = pd.read_csv(output / "plots" / "calibration" / f"{part}.csv")
        assert table["n"].sum() == values["rows"]
    assert summary["current"]["rows"] == len(files.read_parquet(fitted.current))


def test_full_scores_keep_every_row(fitted, evaluated):
    """The DVC-cached Parquet holds every row of both parts, keyed by the raw data row."""
    summary, output = evaluated
    full = pd.read_parquet(output.parent / f"{output.name}-scores.parquet")
    assert list(full.columns) == ["part", "row", "y", "score"]
    for part, path in (("test", fitted.test), ("current", fitted.current)):
        rows = full[full["part"] == part]
        assert len(rows) == summary[part]["rows"]
        assert rows["row"].tolist() == list(files.read_parquet(path).index)


def test_run_writes_plots_without_infinity(evaluated):
    """Every plot file exists; sklearn plot JSON is strict JSON (no Infinity/NaN)."""
    _, output = evaluated
    for kind in ("roc", "precision_recall", "confusion_matrix"):
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
    full = pd.read_parquet(tmp_path / "out-scores.parquet")
    assert set(full["part"]) == {"test"}


def test_run_bayes_threshold_and_grades(fitted, tmp_path):
    """threshold: bayes uses cost_fp / (cost_fp + cost_fn); grades set the calibration buckets."""
    update = {"evaluate": {"threshold": "bayes", "cost_fn": 3.0, "grades": [0.2, 0.5]}}
    summary = run(fitted, tmp_path / "out", update)
    assert summary["threshold"] == summary["bayes_threshold"] == 0.25
    assert summary["test"]["cost"] == summary["test"]["bayes_cost"]
    table = pd.read_csv(tmp_path / "out" / "plots" / "calibration" / "current.csv")
    assert len(table) <= 3 and table["n"].sum() == summary["current"]["rows"]


def test_run_skips_an_unlabelled_current_part(fitted, tmp_path, capsys):
    """Recent applications without outcomes: test metrics only, and the summary says why."""
    frame = files.read_parquet(fitted.current)
    unlabelled = tmp_path / "unlabelled.parquet"
    files.write_parquet(
        frame.assign(Status=np.where(np.arange(len(frame)) % 2, np.nan, 1)), unlabelled
    )
    with cli.diagnostics("evaluate"):
        summary = run(fitted, tmp_path / "out", current=unlabelled)
    assert "current" not in summary and "test" in summary
    half = len(frame) // 2
    assert summary["current_skipped"] == (
        f"current part unlabelled ({half} of {len(frame)} rows without an outcome): "
        "current metrics skipped"
    )
    assert f"kaizen evaluate: {summary['current_skipped']}\n" == capsys.readouterr().err
    assert summary["current_skipped"] in M.headline(summary)
    assert not (tmp_path / "out" / "scores" / "current.csv").exists()


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


@pytest.mark.parametrize(
    ("update", "info", "problem"),
    [
        ({"evaluate": {"cv_folds": 50}}, None, "params.yaml: evaluate.cv_folds: 50 folds need"),
        ({}, {"params": None}, "no valid train params (rerun `dvc repro train`)"),
        ({}, {"model_sha256": None}, "no 'model_sha256' (saved by an older version"),
    ],
)
def test_run_cv_errors_write_nothing(fitted, tmp_path, update, info, problem):
    """Too many folds for the train split, a model.json without params or without what the
    loader checks: one line, no output."""
    path = None
    if info is not None:
        path = tmp_path / "model.json"
        found = files.read_json(fitted.info)
        found.update(info)
        files.write_json({k: v for k, v in found.items() if v is not None}, path)
    with pytest.raises(KaizenError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        run(fitted, tmp_path / "out", update, info=path)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out-scores.parquet").exists()


def test_scores_follow_model(fitted, evaluated):
    """Stored scores equal a fresh scoring of the test split (rounded to 6 digits)."""
    _, output = evaluated
    pipeline = files.load_model(fitted.model)
    test = files.read_parquet(fitted.test)
    expected = predict_scores(pipeline, test[SCHEMA.features]).round(6)
    stored = pd.read_csv(output / "scores" / "test.csv", index_col="row")["score"]
    np.testing.assert_allclose(stored.to_numpy(), expected.to_numpy(), atol=1e-6)


def test_run_caps_rows_and_curve_points(fitted, tmp_path, monkeypatch):
    """Past SCORES_CAP / ROW_CAP / CURVE_POINTS the git copies and plot data are thinned;
    metrics and the DVC-cached full copy are not."""
    monkeypatch.setattr(E, "ROW_CAP", 5)
    monkeypatch.setattr(E, "SCORES_CAP", 6)
    monkeypatch.setattr(E, "CURVE_POINTS", 4)
    summary = run(fitted, tmp_path / "out")
    scores = pd.read_csv(tmp_path / "out" / "scores" / "current.csv")
    assert len(scores) == 6 < summary["current"]["rows"]
    full = pd.read_parquet(tmp_path / "out-scores.parquet")
    assert (full["part"] == "current").sum() == summary["current"]["rows"]
    roc = tmp_path / "out" / "plots" / "sklearn" / "roc" / "current.json"
    roc = json.loads(roc.read_text(encoding="utf-8"))
    assert len(roc["roc"]) <= 4
    matrix = tmp_path / "out" / "plots" / "sklearn" / "confusion_matrix" / "current.json"
    assert len(json.loads(matrix.read_text(encoding="utf-8"))) == 5
