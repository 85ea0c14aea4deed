"""The model pipeline: ratios, estimators, scaling, PCA, scores and versions."""

from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import RobustScaler, StandardScaler

from kaizen import __version__
from kaizen import model as M
from kaizen.data import Schema
from kaizen.features import QuantileClipper
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
