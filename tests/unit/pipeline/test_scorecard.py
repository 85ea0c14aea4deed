"""The scorecard model: binning -> logistic regression -> pdo points, one Pipeline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kaizen import KaizenError
from kaizen.pipeline import model as M
from kaizen.pipeline.metrics import roc_auc
from kaizen.pipeline import scorecard as S
from kaizen.pipeline.data import Schema
from tests.unit.helpers import SCORECARD_SCHEMA, make_params, scorecard_frame

SCHEMA = Schema.from_dict(SCORECARD_SCHEMA)
DEBT_TO_INCOME = [{"name": "debt_to_income", "numerator": "Debt", "denominator": "Income"}]


def config(update: dict | None = None):
    """Train params of a scorecard on the scorecard test data."""
    train = {"model": "scorecard", "features": {"ratios": DEBT_TO_INCOME}}
    train["scorecard"] = update or {}
    return make_params({"train": train}).train


@pytest.fixture(scope="module", name="fitted")
def fixture_fitted():
    """A scorecard fitted on 2,000 synthetic rows."""
    frame = scorecard_frame()
    return M.train(frame, SCHEMA, config()).pipeline, frame


def test_pipeline_steps_are_binning_then_points(fitted):
    """The one Pipeline: ratios, the binning (WoE), the points model."""
    pipeline, _ = fitted
    assert [name for name, _ in pipeline.steps] == ["features", "prep", "model"]
    assert isinstance(pipeline.named_steps["prep"], S.WoEBinning)
    assert S.is_scorecard(pipeline)
    assert pipeline.named_steps["prep"].features[-2:] == ["debt_to_income", "Home"]


def test_probability_is_read_from_the_score(fitted):
    """PD = 1 / (1 + base_odds * 2^((score - base_score) / pdo)) for every row."""
    pipeline, frame = fitted
    inputs = pipeline.named_steps["features"].transform(frame[SCHEMA.features])
    score = pipeline.named_steps["model"].score(pipeline.named_steps["prep"].transform(inputs))
    expected = 1 / (1 + 50 * 2 ** ((score - 600) / 20))
    np.testing.assert_allclose(M.predict_scores(pipeline, frame[SCHEMA.features]), expected)
    assert np.allclose(score, np.round(score))  # decimals: 0, whole points


def test_the_scorecard_ranks_applicants(fitted):
    """A real model: ROC AUC well above chance on its own training rows."""
    pipeline, frame = fitted
    auc = roc_auc(frame["Status"].to_numpy(), M.predict_scores(pipeline, frame[SCHEMA.features]))
    assert auc > 0.7


def test_points_table_holds_every_bin_with_explicit_points(fitted):
    """Regular bins in order, then special and missing per feature; unseen for categories."""
    table = S.table(fitted[0])
    kinds = table.groupby("feature", sort=False)["kind"].apply(list)
    assert kinds["Income"][-2:] == [S.SPECIAL, S.MISSING]
    assert kinds["Home"][-3:] == [S.SPECIAL, S.MISSING, S.UNKNOWN]
    income = table[table["feature"] == "Income"]
    assert income.loc[income["kind"] == S.MISSING, "count"].iloc[0] > 0
    assert table["points"].notna().all()
    regular = income[income["kind"] == S.REGULAR]
    assert regular["lower"].iloc[0] == -math.inf and regular["upper"].iloc[-1] == math.inf
    assert 2 <= len(regular) <= 10 and (regular["share"] >= 0.05).all()
    assert (S.information_values(table) >= 0).all()


def test_decimals_round_points(fitted):
    """decimals: 2 gives points in hundredths; the score is still their sum."""
    frame = fitted[1]
    pipeline = M.train(frame, SCHEMA, config({"decimals": 2})).pipeline
    points = S.table(pipeline)["points"].to_numpy()
    assert np.allclose(points * 100, np.round(points * 100))
    assert not np.allclose(points, np.round(points))


def test_unseen_category_takes_its_explicit_points(fitted):
    """A category the bins never saw scores with the table's "unseen" points (WoE 0)."""
    pipeline, frame = fitted
    row = frame[SCHEMA.features].iloc[[0]].copy()
    row["Home"] = "castle"
    inputs = pipeline.named_steps["features"].transform(row)
    points = pipeline.named_steps["model"].points(pipeline.named_steps["prep"].transform(inputs))
    table = S.table(pipeline)
    unseen = table[(table["feature"] == "Home") & (table["kind"] == S.UNKNOWN)]["points"]
    assert points[0, -1] == unseen.iloc[0]
    assert M.known_categories(pipeline) == {"Home": ["owner", "parents", "rent"]}


@pytest.mark.parametrize(
    "key, value", [("trends", {"Salary": "ascending"}), ("exempt", ["Salary"])]
)
def test_a_feature_that_is_no_input_is_named(key, value):
    """A typo in trends or exempt stops training with the key and the inputs."""
    frame = scorecard_frame()
    with pytest.raises(KaizenError, match=rf"train.scorecard.{key}: 'Salary' is not a model input"):
        M.train(frame, SCHEMA, config({key: value}))


def test_scorecard_rejects_calibration_and_pca():
    """Its probability is read from its points: recalibrating would break the table."""
    with pytest.raises(KaizenError, match="train: .*scorecard needs calibration: none"):
        make_params({"train": {"model": "scorecard", "calibration": "sigmoid"}})


@pytest.mark.parametrize(
    "update, fragment",
    [
        ({"iv_min": 0.6}, "iv_min 0.6 must be below iv_max 0.5"),
        ({"trend": "upwards"}, "train.scorecard.trend"),
        ({"min_bin_share": 0.5}, "train.scorecard.min_bin_share"),
        ({"bins": 4}, "train.scorecard.bins: unknown key"),
    ],
)
def test_scorecard_params_are_validated(update, fragment):
    """Each bad knob is a one-line error naming it."""
    with pytest.raises(KaizenError, match=fragment):
        make_params({"train": {"scorecard": update}})
