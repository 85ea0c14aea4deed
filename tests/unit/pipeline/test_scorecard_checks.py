"""The validator's checks: each passes on a sound scorecard and fails on one built to break it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kaizen.pipeline import model as M
from kaizen.pipeline import scorecard as S
from kaizen.pipeline import scorecard_checks as C
from kaizen.pipeline.data import Schema
from tests.unit.helpers import SCORECARD_SCHEMA, make_params, scorecard_frame

SCHEMA = Schema.from_dict(SCORECARD_SCHEMA)


def fit(frame, update: dict | None = None):
    """A scorecard fitted on `frame` with `train.scorecard` updated, and its config."""
    train = make_params({"train": {"model": "scorecard", "scorecard": update or {}}}).train
    return M.train(frame, SCHEMA, train).pipeline, train.scorecard


def verdicts(pipeline, config, frame, points=None) -> dict[str, bool]:
    """Check name -> passed."""
    found = C.run(pipeline, config, frame[SCHEMA.features], points)
    assert [check.name for check in found] == list(C.NAMES)
    return {check.name: check.passed for check in found}


@pytest.fixture(scope="module", name="sound")
def fixture_sound():
    """A scorecard on data where age lowers the risk (no Debt: its IV is ~0)."""
    frame = scorecard_frame().drop(columns="Debt")
    schema = Schema.from_dict({**SCORECARD_SCHEMA, "numeric": ["Seniority", "Age", "Income"]})
    train = make_params({"train": {"model": "scorecard"}}).train
    return M.train(frame, schema, train).pipeline, train.scorecard, frame, schema


def test_every_check_passes_on_a_sound_scorecard(sound):
    """Monotone, big enough bins, informative features, right signs, age rule, exact sums."""
    pipeline, config, frame, schema = sound
    found = C.run(pipeline, config, frame[schema.features])
    assert all(check.passed for check in found), [c for c in found if not c.passed]
    assert C.summary(found) == {
        "checks": dict.fromkeys(C.NAMES, 1),
        "checks_passed": 7,
        "checks_failed": 0,
    }


def test_a_noise_feature_fails_the_iv_band():
    """Debt is noise (IV < 0.02): iv_range fails and names it."""
    frame = scorecard_frame()
    pipeline, config = fit(frame)
    found = {c.name: c for c in C.run(pipeline, config, frame[SCHEMA.features])}
    assert not found["iv_range"].passed and "Debt" in found["iv_range"].detail


def test_a_leaking_feature_fails_the_iv_band():
    """A copy of the target has a huge IV: suspicious, iv_range fails."""
    frame = scorecard_frame()
    frame["Debt"] = frame["Status"] * 100.0
    pipeline, config = fit(frame)
    found = {c.name: c for c in C.run(pipeline, config, frame[SCHEMA.features])}
    assert not found["iv_range"].passed and "Debt" in found["iv_range"].detail


def test_older_riskier_given_seniority_breaks_signs_and_the_age_rule():
    """Age marginally safe but risky once seniority is known (the default data's case): its
    WoE coefficient turns positive and 62+ gets fewer points than younger applicants."""
    frame = scorecard_frame(age_penalty=0.4, tie=0.9)
    pipeline, config = fit(frame, {"trends": {}})
    found = verdicts(pipeline, config, frame)
    assert not found["coefficient_signs"] and not found["age_rule"]
    assert found["points_sum"] and found["pdo_doubling"]


def test_age_rule_not_applicable_without_age():
    """No age input: the rule passes, saying why."""
    frame = scorecard_frame(age_penalty=0.4, tie=0.9)
    pipeline, _ = fit(frame, {"trends": {}})
    config = make_params({"train": {"scorecard": {"age_column": None}}}).train.scorecard
    check = C.age_rule(S.table(pipeline), config)
    assert check.passed and check.detail == "not applicable: no age input"


def test_a_valley_trend_breaks_monotonicity_unless_exempt():
    """Income with a U-shaped risk, binned as a valley: not monotone; exempting it passes."""
    frame = scorecard_frame(seed=1)
    middle = frame["Income"].between(100, 140).to_numpy()
    risky = np.random.default_rng(2).random(len(frame)) < 0.6
    frame["Status"] = np.where(middle, 0, risky).astype(np.int8)
    pipeline, config = fit(frame, {"trends": {"Income": "valley"}})
    assert not verdicts(pipeline, config, frame)["monotone_points"]
    exempt = make_params({"train": {"scorecard": {"exempt": ["Income"]}}}).train.scorecard
    assert C.monotone_points(S.table(pipeline), exempt).passed


def test_bins_smaller_than_the_policy_fail(sound):
    """Bins fitted at 2 % checked against a 20 % policy: min_bin_share fails."""
    _, _, frame, schema = sound
    train = make_params({"train": {"model": "scorecard", "scorecard": {"min_bin_share": 0.02}}})
    pipeline = M.train(frame, schema, train.train).pipeline
    policy = make_params({"train": {"scorecard": {"min_bin_share": 0.2}}}).train.scorecard
    assert not C.min_bin_share(S.table(pipeline), policy).passed


def test_a_table_that_is_not_the_model_fails_points_sum(sound):
    """One bin's points edited in the table: its rows' scores no longer add up."""
    pipeline, _, frame, schema = sound
    points = S.table(pipeline)
    points.loc[0, "points"] += 1
    check = C.points_sum(points, pipeline, frame[schema.features])
    assert not check.passed and "score != sum of points" in check.detail


def test_a_wrong_scaling_fails_the_doubling(sound):
    """A factor of pdo instead of pdo / ln 2: +pdo points multiply the odds by e, not 2."""
    pipeline, _, frame, schema = sound
    model = pipeline.named_steps["model"]
    scores = model.score(pipeline[:-1].transform(frame[schema.features]))
    assert C.pdo_doubling(model, scores).passed
    broken = pipeline[-1:].steps[0][1].__class__(**model.get_params())
    broken.fit(pipeline[:-1].transform(frame[schema.features]), frame["Status"])
    broken.factor_ = broken.pdo
    check = C.pdo_doubling(broken, scores)
    assert not check.passed and "2.718" in check.detail


def test_a_positive_coefficient_fails_signs():
    """The sign check reads the coefficients on WoE."""
    assert not C.coefficient_signs(["a", "b"], np.array([-0.5, 0.1])).passed
    assert C.coefficient_signs(["a", "b"], np.array([-0.5, -0.1])).passed


def test_optbinning_defaults_on_the_public_credit_data_break_monotonicity_and_the_age_rule():
    """The embedded UPC credit data (all 4,454 rows), optbinning's default trend ("auto"):
    several numeric features get non-monotone points and 62+ gets fewer points on age; the
    monotone default (auto_asc_desc) repairs monotonicity, not the age rule (age is riskier at
    equal seniority: only leaving it out fixes that)."""
    raw = pd.read_csv(Path(__file__).parents[3] / "data" / "raw" / "credit_data.csv")
    frame = raw.assign(Status=(raw["Status"] == "bad").astype(np.int8))
    categorical = ["Home", "Marital", "Records", "Job"]
    numeric = [name for name in frame.columns if name not in categorical + ["Status"]]
    schema = Schema("Status", "1", numeric, categorical)
    found = {}
    for trend in ("auto", "auto_asc_desc"):
        train = make_params({"train": {"model": "scorecard", "scorecard": {"trend": trend}}})
        pipeline = M.train(frame, schema, train.train).pipeline
        checks = C.run(pipeline, train.train.scorecard, frame[schema.features])
        found[trend] = {check.name: check.passed for check in checks}
    assert not found["auto"]["monotone_points"] and not found["auto"]["age_rule"]
    assert found["auto_asc_desc"]["monotone_points"] and not found["auto_asc_desc"]["age_rule"]
    assert all(seen["points_sum"] and seen["pdo_doubling"] for seen in found.values())
