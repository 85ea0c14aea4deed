"""Reason codes: exact log-odds contributions (logreg) and one-at-a-time replacement (rf/hgb),
checked against values computed independently from the fitted pipeline."""

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.pipeline import model as M
from kaizen.pipeline.data import Schema
from kaizen.bundle.reasons import EXACT, REPLACEMENT, SHORTFALL, Explainer, owners, top_reasons
from kaizen.pipeline import scorecard as S
from tests.unit.helpers import SCORECARD_SCHEMA, credit_frame, make_params, scorecard_frame

SCHEMA = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])


def training_frame() -> pd.DataFrame:
    """The synthetic table, typed as ingest leaves it, with one missing income."""
    frame = credit_frame(80)
    frame["Status"] = (frame["Status"] == "bad").astype("int8")
    frame.loc[3, "Income"] = np.nan
    frame["Home"] = frame["Home"].astype(object)
    return frame


def fitted(update: dict | None = None) -> tuple[M.Trained, pd.DataFrame]:
    """A pipeline trained on the synthetic table, and new applicants."""
    trained = M.train(training_frame(), SCHEMA, make_params(update).train)
    new = credit_frame(12, seed=9)[SCHEMA.features]
    new["Home"] = new["Home"].astype(object)
    new.loc[0, "Income"] = np.nan
    new.loc[1, "Home"] = "castle"
    new.loc[2, "Home"] = np.nan
    return trained, new


@pytest.mark.parametrize("pca", [None, 3])
@pytest.mark.parametrize("scaling", ["standard", "robust"])  # robust: encoded means are not 0
def test_logreg_contributions_add_up_to_the_logit_distance(pca, scaling):
    """Sum over features = logit(score) - logit(average encoded applicant), exactly."""
    trained, new = fitted({"train": {"pca": {"n_components": pca}, "scaling": scaling}})
    pipeline = trained.pipeline
    explainer = Explainer(pipeline, trained.reference)
    assert explainer.method == EXACT
    contributions = explainer.contributions(new)
    assert list(contributions.columns) == SCHEMA.features + ["debt_to_income", "amount_to_price"]
    prep = pipeline.named_steps["prep"]
    means = pd.DataFrame([trained.reference["encoded_means"]])[prep.get_feature_names_out()]
    average = pipeline[2:].decision_function(means.to_numpy())[0]
    scores = M.predict_scores(pipeline, new).to_numpy()
    assert contributions.sum(axis=1).to_numpy() == pytest.approx(
        np.log(scores / (1 - scores)) - average
    )


def test_logreg_contribution_of_one_feature_is_its_columns_terms():
    """Income = its scaled column's term + its missing indicator's term; Home = its one-hots."""
    trained, new = fitted()
    pipeline = trained.pipeline
    contributions = Explainer(pipeline, trained.reference).contributions(new)
    prep = pipeline.named_steps["prep"]
    names = list(prep.get_feature_names_out())
    encoded = prep.transform(pipeline.named_steps["features"].transform(new))
    coef = pipeline.named_steps["model"].coef_[0]
    means = trained.reference["encoded_means"]

    def terms(columns):
        return sum(coef[names.index(c)] * (encoded[:, names.index(c)] - means[c]) for c in columns)

    income = ["num__Income", "num__missingindicator_Income"]
    home = [name for name in names if name.startswith("cat__Home_")]
    assert contributions["Income"].to_numpy() == pytest.approx(terms(income))
    assert contributions["Home"].to_numpy() == pytest.approx(terms(home))
    assert contributions["Debt"].to_numpy() == pytest.approx(terms(["num__Debt"]))


@pytest.mark.parametrize("model", ["rf", "hgb"])
def test_other_models_use_score_change_on_replacement(model):
    """Contribution = score - score with that input set to its reference value: for a raw column
    outside every ratio (Home) on the raw rows, for a raw column inside a ratio (Amount) with the
    ratio left as it was."""
    trained, new = fitted({"train": {"model": model}})
    pipeline, reference = trained.pipeline, trained.reference["inputs"]
    explainer = Explainer(pipeline, trained.reference)
    assert explainer.method == REPLACEMENT
    contributions = explainer.contributions(new)
    base = M.predict_scores(pipeline, new).to_numpy()
    replaced = new.assign(Home=reference["Home"]).astype({"Home": object})
    expected = base - M.predict_scores(pipeline, replaced).to_numpy()
    assert contributions["Home"].to_numpy() == pytest.approx(expected)
    inputs = pipeline.named_steps["features"].transform(new).assign(Amount=reference["Amount"])
    expected = base - pipeline[1:].predict_proba(inputs)[:, 1]
    assert contributions["Amount"].to_numpy() == pytest.approx(expected)
    assert contributions.loc[new["Home"] == reference["Home"], "Home"].eq(0).all()


def test_reference_profile_and_known_categories():
    """Medians / most frequent values of the training rows; the imputer's fill value is not a
    known category."""
    trained, _ = fitted()
    frame = training_frame()
    inputs = trained.reference["inputs"]
    assert inputs["Amount"] == frame["Amount"].median()
    assert inputs["Home"] == frame["Home"].mode().iloc[0]
    assert inputs["debt_to_income"] == pytest.approx((frame["Debt"] / frame["Income"]).median())
    assert M.known_categories(trained.pipeline) == {"Home": ["other", "owner", "rent"]}
    values = pd.Series([np.nan, np.nan])
    assert M.typical(values, True) is None and M.typical(values, False) is None


def test_top_reasons_positive_only_largest_first_at_most_k():
    """Only features that raised the score, largest first, ties by column order, k at most."""
    table = pd.DataFrame(
        [[0.5, -1.0, 2.0, 0.5], [-1.0, -2.0, -0.1, -3.0], [0.1, 0.3, 0.2, 0.4]],
        columns=["a", "b", "c", "d"],
    )
    assert top_reasons(table, 3) == [
        [("c", 2.0), ("a", 0.5), ("d", 0.5)],
        [],
        [("d", 0.4), ("b", 0.3), ("c", 0.2)],
    ]
    assert top_reasons(table, 1) == [[("c", 2.0)], [], [("d", 0.4)]]


def test_owners_maps_encoded_columns_to_inputs():
    """Numeric names match exactly (with or without a missing indicator), one-hots by prefix."""
    inputs = ["Debt", "debt_to_income", "Home", "Home_type"]
    encoded = [
        "num__Debt",
        "num__debt_to_income",
        "num__missingindicator_debt_to_income",
        "cat__Home_rent",
        "cat__Home_type_flat",
    ]
    assert owners(encoded, inputs) == ["Debt", "debt_to_income", "debt_to_income", "Home"] + [
        "Home_type"
    ]
    with pytest.raises(KaizenError, match="'num__Debt_x' matches no model input"):
        owners(["num__Debt_x"], inputs)


def test_explainer_refuses_a_reference_of_another_model():
    """Saved means for other columns than the model's: a one-line error, not wrong reasons."""
    trained, _ = fitted()
    reference = dict(trained.reference, encoded_means={"num__Other": 0.0})
    with pytest.raises(KaizenError, match="reference.encoded_means does not match"):
        Explainer(trained.pipeline, reference)


def test_scorecard_reasons_are_points_shortfalls():
    """A scorecard's reasons: each feature's best points minus the applicant's, largest first;
    the shortfalls add up to the best possible score minus the applicant's score."""
    schema = Schema.from_dict(SCORECARD_SCHEMA)
    frame = scorecard_frame()
    trained = M.train(frame, schema, make_params({"train": {"model": "scorecard"}}).train)
    explainer = Explainer(trained.pipeline, trained.reference)
    assert explainer.method == SHORTFALL
    new = scorecard_frame(50, seed=5)[schema.features]
    found = explainer.contributions(new)
    assert list(found.columns) == explainer.inputs and (found.to_numpy() >= 0).all()
    table = S.table(trained.pipeline)
    best = table[(table["kind"] == S.REGULAR) | (table["count"] > 0)]
    best = best.groupby("feature")["points"].max()
    inputs = trained.pipeline.named_steps["features"].transform(new)
    points = S.table_points(table, inputs)
    np.testing.assert_allclose(found.to_numpy(), (best[points.columns] - points)[found.columns])
    reasons = top_reasons(found, 4)
    first = found.iloc[0].sort_values(ascending=False, kind="stable")
    assert reasons[0][0] == (first.index[0], first.iloc[0])
