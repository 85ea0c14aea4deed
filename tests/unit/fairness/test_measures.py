"""Group figures: MetricFrame's points equal the vectorised bootstrap's definitions, the AIR
screen judges only groups large enough, intervals cover the truth at about their level."""

import numpy as np
import pandas as pd
import pytest

from kaizen.fairness import measures as F
from kaizen.fairness.params import FairnessConfig


def sample(n: int = 1200, seed: int = 0):
    """Labels, refusals, scores and groups a/b/c (c small) with b approved less often."""
    rng = np.random.default_rng(seed)
    groups = pd.Series(rng.choice(["a", "b", "c"], n, p=[0.6, 0.38, 0.02]))
    score = rng.beta(2, 5, n) + np.where(groups == "b", 0.15, 0.0)
    y = (rng.random(n) < np.clip(score, 0, 1)).astype(int)
    return y, (score >= 0.35).astype(int), score, groups


def test_bootstrap_definitions_equal_metricframe():
    """Per-group counts give exactly MetricFrame's figures (same definitions in the bootstrap)."""
    y, refused, score, groups = sample()
    labels = ["a", "b", "c"]
    codes = np.searchsorted(labels, groups)
    counted = F.figures(F.group_sums(codes, y.astype(float), refused.astype(float), score, 3), 0)
    engine = F.points(F.metric_frame(y, refused, score, groups), 0)
    for name in F.FIGURES:
        np.testing.assert_allclose(counted[name], engine[name], err_msg=name)


def test_figures_by_hand_and_small_group_not_judged():
    """Approval, AIR, TPR/FPR, default rate, O/E on 10 rows computed by hand; the AIR screen
    flags b, never judges a group under min_group."""
    groups = pd.Series(list("aaaaaabbbb"))
    y = np.array([1, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    refused = np.array([1, 0, 0, 0, 0, 0, 1, 1, 1, 0])
    score = np.array([0.6, 0.1, 0.1, 0.2, 0.2, 0.3, 0.7, 0.8, 0.6, 0.2])
    config = FairnessConfig(min_group=4, bootstrap=0)
    out = F.attribute(y, refused, score, groups, "a", config, np.random.default_rng(0))
    a, b = out["groups"]["a"], out["groups"]["b"]
    assert a["approval_rate"] == pytest.approx(5 / 6) and b["approval_rate"] == 0.25
    assert b["air"] == pytest.approx(0.25 / (5 / 6))
    assert a["tpr"] == 0.5 and a["fpr"] == 0 and b["tpr"] == 1 and b["fpr"] == 0.5
    assert b["observed_expected"] == pytest.approx(2 / 2.3)
    assert out["equalized_odds_difference"] == pytest.approx(0.5)
    assert b["air_screen"] == "below band" and out["flagged"] == ["b"]
    small = F.attribute(
        y,
        refused,
        score,
        groups,
        "a",
        config.model_copy(update={"min_group": 5}),
        np.random.default_rng(0),
    )
    assert small["groups"]["b"]["air_screen"] == "not judged" and small["flagged"] == []
    assert small["groups"]["b"]["air"] == b["air"]  # reported all the same


def test_unlabelled_part_keeps_decision_figures_only():
    """Without outcomes: approval, AIR, mean score; no TPR, default rate or EOD."""
    _, refused, score, groups = sample(300)
    out = F.attribute(
        None, refused, score, groups, "a", FairnessConfig(bootstrap=10), np.random.default_rng(0)
    )
    row = out["groups"]["b"]
    assert {"approval_rate", "air", "mean_score"} <= set(row) and "tpr" not in row
    assert "equalized_odds_difference" not in out and out["labelled"] is False


def test_jeffreys_interval_edges():
    """No default: the lower end is 0; all defaults: the upper end is n/expected."""
    assert F.jeffreys(0, 20, 2.0)[0] == 0
    assert F.jeffreys(20, 20, 10.0)[1] == pytest.approx(2.0)
    assert all(np.isnan(F.jeffreys(0, 0, 0)))


def test_approval_interval_covers_at_about_95_percent():
    """Seeded simulation: 200 samples of 400 rows from a known population; the bootstrap
    interval of group b's approval rate covers the true rate in 95 % +- 4 % of them."""
    rng = np.random.default_rng(7)
    truth = 0.7
    hits = 0
    runs = 200
    for _ in range(runs):
        groups = pd.Series(rng.choice(["a", "b"], 400))
        refused = (rng.random(400) >= np.where(groups == "b", truth, 0.8)).astype(int)
        y = rng.integers(0, 2, 400)
        out = F.attribute(
            y, refused, rng.random(400), groups, "a", FairnessConfig(bootstrap=300), rng
        )
        low, high = out["groups"]["b"]["approval_rate_ci"]
        hits += low <= truth <= high
    assert abs(hits / runs - 0.95) <= 0.04
