"""Selective labels: the like-for-like baseline (test split restricted to the accepted region),
the population the outcomes cover, the grades no outcome can back-test, and a seeded simulation
showing that outcomes of accepted applicants alone raise no false alarm."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kaizen.monitoring import performance as P
from kaizen.monitoring import selective
from kaizen.monitoring.performance_signals import judged_performance
from kaizen.monitoring.window import Reference
from kaizen.pipeline import metrics as M


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated scores of a good model (ROC AUC about 0.85) and outcomes drawn from them."""
    score = 1 / (1 + np.exp(-(-1.2 + 1.9 * rng.normal(size=n))))
    return score, (rng.random(n) < score).astype(int)


def test_baseline_is_the_accepted_region_of_the_test_split():
    """Accepted: test rows below the threshold, with their AUC and DeLong s.e.; everyone: all."""
    rng = np.random.default_rng(0)
    score, label = draw(rng, 2000)
    accepted = selective.baseline(label, score, 0.3, selective.ACCEPTED, estimated=0.7)
    keep = score < 0.3
    assert accepted.rows == keep.sum() and accepted.defaults == label[keep].sum()
    assert accepted.roc_auc == pytest.approx(M.roc_auc(label[keep], score[keep]))
    assert accepted.roc_auc_se == pytest.approx(M.delong_se(label[keep], score[keep]))
    everyone = selective.baseline(label, score, 0.3, selective.EVERYONE)
    assert everyone.rows == 2000 and everyone.roc_auc > accepted.roc_auc + 0.05
    assert accepted.describe.startswith("accepted applicants (score < 0.3), n = ")
    assert f"defaults = {accepted.defaults:,}" in accepted.describe
    one_class = selective.baseline(np.zeros(5), np.linspace(0, 0.2, 5), 0.3, selective.ACCEPTED)
    assert math.isnan(one_class.roc_auc) and math.isnan(one_class.roc_auc_se)


def test_population_and_decided_threshold():
    """Outcomes of accepted events only: accepted applicants; one refused outcome: everyone.
    Decisions that contradict the bundle's threshold reveal the one used."""
    frame = pd.DataFrame(
        {"score": [0.1, 0.2, 0.5, 0.6], "decision": ["accept"] * 2 + ["refuse"] * 2}
    )
    assert (
        selective.population(frame, pd.Series([True, True, False, False])) == "accepted applicants"
    )
    assert selective.population(frame, pd.Series([True, False, True, False])) == "all applicants"
    assert selective.decided_threshold(frame, 0.3) == 0.3
    assert selective.decided_threshold(frame, 0.55) == 0.5
    assert selective.decided_threshold(frame.iloc[:2], 0.15) == 0.15


def test_grades_without_outcomes_are_named():
    """A grade wholly above the threshold is 'not back-tested (refused region)', never 'ok'."""
    edges = np.array([0.1, 0.2, 0.4])
    untested = selective.untested_grades(edges, {1, 2}, threshold=0.2)
    assert [(g.grade, g.reason) for g in untested] == [
        (3, "not back-tested (refused region)"),
        (4, "not back-tested (refused region)"),
    ]
    assert selective.untested_grades(edges, {2, 3, 4}, 0.2)[0].reason.endswith("(no outcome yet)")


def test_selection_alone_raises_no_false_alarm():
    """200 seeded replicates, each a fresh 620-row test split and a 1,000-event window of the
    same (undecayed) model whose outcomes come back for accepted applicants only. Compared like
    for like (accepted region of the test split, both s.e.), the AUC-decline test at 5 %
    false-alarms in at most 6 % of replicates (tolerance: 1.5 % above the nominal 5 %, about
    one binomial s.e.); compared with the whole test split, as before, in most of them."""
    rng = np.random.default_rng(20)
    alarms, old_alarms = 0, 0
    for _ in range(200):
        test_score, test_label = draw(rng, 620)
        score, label = draw(rng, 1000)
        frame = pd.DataFrame({"score": score, "outcome": label.astype(float)})
        frame["decision"] = np.where(score >= 0.3, "refuse", "accept")
        accepted = pd.Series(score < 0.3)
        reference = Reference(
            features=pd.DataFrame(),
            numeric=[],
            categorical=[],
            scores=test_score,
            labels=test_label,
            threshold=0.3,
            evaluated={"test": {"roc_auc": M.roc_auc(test_label, test_score)}},
        )
        found = judged_performance(frame, accepted, reference, (5.0, 1.0), np.array([0.2, 0.4]))
        assert found is not None and found.baseline.population == "accepted applicants"
        alarms += found.auc_test.p_value < 0.05
        old = P.auc_decline_test(
            M.roc_auc(test_label, test_score), label[score < 0.3], score[score < 0.3]
        )
        old_alarms += old.p_value < 0.05
    assert alarms / 200 <= 0.06
    assert old_alarms / 200 >= 0.5
