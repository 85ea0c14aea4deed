"""The model pipeline: ratios, estimators, scaling, PCA, scores and versions."""

from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import RobustScaler, StandardScaler

from kaizen import KaizenError, __version__
from kaizen.pipeline import model as M
from kaizen.config import EvaluateConfig
from kaizen.pipeline.data import Schema
from kaizen.pipeline.features import QuantileClipper
from tests.unit.helpers import credit_frame, make_params

SCHEMA = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])


def training_data() -> tuple[pd.DataFrame, np.ndarray]:
    """Features (with a missing value) and 0/1 target of the synthetic table."""
    frame = credit_frame(40)
    frame.loc[3, "Income"] = np.nan
    return frame[SCHEMA.features], (frame["Status"] == "bad").astype(int).to_numpy()


def test_usable_ratios():
    """Ratios on numeric columns are kept; others are reported as skipped."""
    ratios = [
        {"name": "dti", "numerator": "Debt", "denominator": "Income"},
        {"name": "home_ratio", "numerator": "Home", "denominator": "Income"},
        {"name": "ghost", "numerator": "Debt", "denominator": "Nope"},
    ]
    config = make_params({"train": {"features": {"ratios": ratios}}}).train
    usable, skipped = M.usable_ratios(SCHEMA, config)
    assert usable == [("dti", "Debt", "Income")]
    assert skipped == ["home_ratio", "ghost"]


@pytest.mark.parametrize(
    ("update", "kind", "attributes"),
    [
        (
            {"model": "logreg", "seed": 3, "logreg": {"C": 0.5, "class_weight": "balanced"}},
            LogisticRegression,
            {"C": 0.5, "class_weight": "balanced", "max_iter": 1000, "random_state": 3},
        ),
        (
            {"model": "rf", "rf": {"n_estimators": 7, "max_depth": 3, "max_features": 0.5}},
            RandomForestClassifier,
            {"n_estimators": 7, "max_depth": 3, "max_features": 0.5, "min_samples_leaf": 5},
        ),
        (
            {"model": "hgb", "hgb": {"learning_rate": 0.2, "max_leaf_nodes": 4}},
            HistGradientBoostingClassifier,
            {"learning_rate": 0.2, "max_leaf_nodes": 4, "max_iter": 10, "early_stopping": False},
        ),
    ],
)
def test_build_estimator(update, kind, attributes):
    """train.model picks the class; its section sets the hyper-parameters."""
    estimator = M.build_estimator(make_params({"train": update}).train)
    assert isinstance(estimator, kind)
    for name, value in attributes.items():
        assert getattr(estimator, name) == value, name


def test_scaler():
    """standard/robust scalers, or passthrough."""
    # pylint: disable=protected-access
    assert isinstance(M._scaler("standard"), StandardScaler)
    assert isinstance(M._scaler("robust"), RobustScaler)
    assert M._scaler("none") == "passthrough"


@pytest.mark.parametrize("model", ["logreg", "rf", "hgb"])
@pytest.mark.parametrize("pca", [None, 2])
def test_pipeline_fits_and_scores(model, pca):
    """Every model, with and without PCA, fits and returns probabilities in [0, 1]."""
    config = make_params({"train": {"model": model, "pca": {"n_components": pca}}}).train
    pipeline, _ = M.build_pipeline(SCHEMA, config)
    assert [name for name, _ in pipeline.steps] == ["features", "prep"] + (
        ["pca"] if pca else []
    ) + ["model"]
    X, y = training_data()
    pipeline.fit(X, y)
    scores = M.predict_scores(pipeline, X)
    assert scores.name == "score"
    assert scores.index.equals(X.index)
    assert scores.between(0, 1).all()
    assert scores.nunique() > 1
    if pca:
        assert pipeline.named_steps["pca"].n_components_ == 2
        assert isinstance(pipeline.named_steps["pca"], PCA)


def test_pipeline_steps_follow_config():
    """Clipping, ratio columns and scaling follow train.*; categories are one-hot encoded."""
    config = make_params({"train": {"outliers": {"method": "none"}, "scaling": "none"}}).train
    pipeline, _ = M.build_pipeline(SCHEMA, config)
    numeric = pipeline.named_steps["prep"].transformers[0]
    assert numeric[2] == SCHEMA.numeric + ["debt_to_income", "amount_to_price"]
    assert numeric[1].named_steps["clip"] == "passthrough"
    assert numeric[1].named_steps["scale"] == "passthrough"
    X, y = training_data()
    pipeline.fit(X, y)
    names = list(pipeline[:-1].get_feature_names_out())
    assert "num__debt_to_income" in names
    assert "num__missingindicator_Income" in names
    assert {"cat__Home_rent", "cat__Home_owner", "cat__Home_other"} <= set(names)

    clipped, _ = M.build_pipeline(
        SCHEMA, make_params({"train": {"outliers": {"lower": 0.05}}}).train
    )
    clip = clipped.named_steps["prep"].transformers[0][1].named_steps["clip"]
    assert isinstance(clip, QuantileClipper) and clip.lower == 0.05


def test_pipeline_ignores_unknown_category():
    """A category unseen in training scores without error."""
    X, y = training_data()
    pipeline = M.build_pipeline(SCHEMA, make_params().train)[0].fit(X, y)
    new = X.iloc[:2].copy()
    new["Home"] = ["castle", np.nan]
    assert M.predict_scores(pipeline, new).between(0, 1).all()


def test_rare_levels_are_pooled_and_unseen_levels_count_as_rare():
    """min_frequency pools rare levels into one column; an unseen level scores like them."""
    X, y = training_data()
    X = X.assign(Home=["rare1", "rare2"] + list(X["Home"].iloc[2:]))
    config = make_params({"train": {"categories": {"min_frequency": 3}}}).train
    pipeline = M.build_pipeline(SCHEMA, config)[0].fit(X, y)
    names = list(pipeline[:-1].get_feature_names_out())
    assert "cat__Home_infrequent_sklearn" in names and "cat__Home_rare1" not in names
    rows = X.iloc[:3].copy()
    rows["Home"] = ["rare1", "castle", "rare2"]
    encoded = pipeline[:-1].transform(rows)
    column = names.index("cat__Home_infrequent_sklearn")
    assert encoded[:, column].tolist() == [1, 1, 1]


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_is_the_last_pipeline_step(method):
    """train.calibration wraps the classifier in an out-of-fold calibrator, inside the Pipeline."""
    X, y = training_data()
    config = make_params({"train": {"calibration": method}}).train
    pipeline = M.build_pipeline(SCHEMA, config)[0].fit(X, y)
    step = pipeline.named_steps["model"]
    assert isinstance(step, CalibratedClassifierCV)
    assert step.method == method and step.ensemble is False
    assert step.cv.n_splits == M.CALIBRATION_FOLDS
    assert len(step.calibrated_classifiers_) == 1  # one classifier refitted on every row
    assert M.predict_scores(pipeline, X).between(0, 1).all()


def test_cross_validate_scores_each_row_out_of_fold():
    """Every row gets one score from the fold model that did not see it (checked by refitting
    fold 0 by hand); the folds are stratified and seeded."""
    frame = credit_frame(60).assign(Status=lambda f: (f["Status"] == "bad").astype(int))
    config = make_params().train
    oof = M.cross_validate(frame, SCHEMA, config, 3, seed=7)
    assert list(oof.index) == list(frame.index) and sorted(oof["fold"].unique()) == [0, 1, 2]
    assert oof["y"].tolist() == frame["Status"].tolist()
    held = oof["fold"] == 0
    model = M.train(frame.loc[~held], SCHEMA, config).pipeline
    expected = M.predict_scores(model, frame.loc[held, SCHEMA.features])
    np.testing.assert_allclose(oof.loc[held, "score"], expected)
    rates = oof.groupby("fold")["y"].mean()
    assert rates.max() - rates.min() < 0.1
    assert oof.equals(M.cross_validate(frame, SCHEMA, config, 3, seed=7))


def test_cross_validate_needs_rows_of_each_class_per_fold():
    """More folds than rows of the smaller class: one line naming the param."""
    frame = credit_frame(20).assign(Status=[1] * 3 + [0] * 17)
    with pytest.raises(KaizenError, match=r"^params.yaml: evaluate.cv_folds: 5 folds need at"):
        M.cross_validate(frame, SCHEMA, make_params().train, 5, seed=1)


def test_recalibration_needs_rows_of_each_class():
    """Sigmoid recalibration on 4 rows of a class: one line naming the param, not sklearn's
    traceback (a retraining loop on accepted outcomes only can have that few defaults)."""
    frame = credit_frame(20).assign(Status=[1] * 4 + [0] * 16)
    config = make_params({"train": {"calibration": "sigmoid"}}).train
    with pytest.raises(KaizenError, match=r"^params.yaml: train.calibration: sigmoid .* has 4"):
        M.train(frame, SCHEMA, config)
    assert M.train(frame, SCHEMA, make_params({"train": {"calibration": "none"}}).train)


def test_high_cardinality():
    """Columns with more distinct values than the share of rows, with their counts."""
    frame = pd.DataFrame({"a": ["x", "y"] * 5, "b": [f"v{i}" for i in range(10)]})
    assert M.high_cardinality(frame, ["a", "b"], 0.3) == {"b": 10}
    assert M.high_cardinality(frame, ["a", "b"], 1.0) == {}


def test_library_versions(monkeypatch):
    """Python, kaizen and each library are listed; an absent library is 'unknown'."""
    versions = M.library_versions()
    assert versions["kaizen"] == __version__
    assert versions["scikit-learn"] == metadata.version("scikit-learn")
    assert set(M.LIBRARIES) <= set(versions)

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(M.metadata, "version", missing)
    assert M.library_versions()["pandas"] == "unknown"


EVAL_SCHEMA = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])
CONFIG = EvaluateConfig(bootstrap=10, permutation_repeats=1)


def fit(update=None, rows: int = 40):
    """A pipeline fitted on the synthetic table, with its features and 0/1 target."""
    frame = credit_frame(rows)
    X, y = frame[EVAL_SCHEMA.features], (frame["Status"] == "bad").astype(int).to_numpy()
    return (
        M.build_pipeline(EVAL_SCHEMA, make_params({"train": update or {}}).train)[0].fit(X, y),
        X,
        y,
    )


def test_importance_subsamples_large_tests(monkeypatch):
    """At most IMPORTANCE_ROWS rows are permuted; one row per input column, sorted."""
    pipeline, X, y = fit()
    table = M.importance(pipeline, X, y, CONFIG.permutation_repeats, CONFIG.seed)
    assert list(table.columns) == ["feature", "importance", "std"]
    assert sorted(table["feature"]) == sorted(X.columns)
    monkeypatch.setattr(M, "IMPORTANCE_ROWS", 20)
    small = M.importance(pipeline, X, y, CONFIG.permutation_repeats, CONFIG.seed)
    assert len(small) == len(X.columns)
    assert not small["importance"].equals(table.set_index(table.index)["importance"])


def test_projection_uses_model_pca_when_two_axes():
    """With a 2-axis PCA step the model's own projection is used; otherwise a fresh PCA."""
    pipeline, X, _ = fit({"pca": {"n_components": 2}})
    points = M.projection(pipeline, X, 0)
    np.testing.assert_allclose(points, pipeline[:-1].transform(X))
    plain, X, _ = fit()
    points = M.projection(plain, X, 0)
    assert points.shape == (len(X), 2)
    prepared = plain[:2].transform(X)
    variance = np.var(points, axis=0)
    assert variance[0] >= variance[1]
    assert variance.sum() <= np.var(prepared, axis=0).sum() + 1e-9
    three, X, _ = fit({"pca": {"n_components": 3}})
    assert M.projection(three, X, 0).shape == (len(X), 2)
