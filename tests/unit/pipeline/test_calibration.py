"""Calibration back-tests against independently computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kaizen.pipeline import calibration as C


def hand_table() -> pd.DataFrame:
    """Three buckets whose Hosmer-Lemeshow terms are easy to work out by hand."""
    return pd.DataFrame(
        {
            "n": [100, 50, 200],
            "defaults": [15, 18, 10],
            "mean_pd": [0.1, 0.4, 0.05],
            "observed_rate": [0.15, 0.36, 0.05],
        }
    )


def test_hosmer_lemeshow_on_a_hand_made_table():
    """(15-10)^2/(10*0.9) + (18-20)^2/(20*0.6) + 0 = 25/9 + 4/12 = 3.1111, 3 buckets = 3 df."""
    statistic, pvalue, df = C.hosmer_lemeshow(hand_table())
    assert statistic == pytest.approx(25 / 9 + 4 / 12)
    assert df == 3
    # chi-squared with 3 df: P(X > x) = erfc(sqrt(x / 2)) + sqrt(2 x / pi) exp(-x / 2)
    expected = math.erfc(math.sqrt(statistic / 2)) + math.sqrt(2 * statistic / math.pi) * math.exp(
        -statistic / 2
    )
    assert pvalue == pytest.approx(expected)


def test_hosmer_lemeshow_needs_a_bucket():
    """No bucket: NaN, not a p-value; one bucket is a test of the overall default rate (1 df)."""
    statistic, pvalue, df = C.hosmer_lemeshow(hand_table().iloc[:0])
    assert math.isnan(statistic) and math.isnan(pvalue) and df == 0
    statistic, pvalue, df = C.hosmer_lemeshow(hand_table().iloc[:1])
    assert df == 1 and statistic == pytest.approx(25 / 9)


def test_hosmer_lemeshow_holds_its_level_on_held_out_rows():
    """A perfectly calibrated model (labels drawn from its scores) fails the 5 % test in 5 % of
    600-row held-out samples: 2,000 seeded trials, 3.8-6.2 % accepted (about 4 s.e.); the
    in-sample G - 2 convention failed 10.6 % here."""
    rng = np.random.default_rng(20)
    trials, rows = 2000, 600
    failed = 0
    for _ in range(trials):
        score = np.sort(rng.beta(1.2, 3.0, rows))
        y = rng.random(rows) < score
        deciles = np.arange(rows) * 10 // rows  # equal-count buckets of the sorted scores
        buckets = pd.DataFrame(
            {
                "n": np.bincount(deciles),
                "defaults": np.bincount(deciles, y),
                "mean_pd": np.bincount(deciles, score) / np.bincount(deciles),
            }
        )
        failed += C.hosmer_lemeshow(buckets)[1] < 0.05
    assert 0.038 <= failed / trials <= 0.062


def test_expected_calibration_error_by_hand():
    """(100*0.05 + 50*0.04 + 200*0) / 350."""
    assert C.expected_calibration_error(hand_table()) == pytest.approx(7 / 350)


@pytest.mark.parametrize(("defaults", "n"), [(3, 40), (17, 200), (1, 9), (120, 150)])
def test_jeffreys_interval_matches_scipy_beta(defaults, n):
    """Equal-tailed quantiles of Beta(d + 1/2, n - d + 1/2) (scipy.stats.beta)."""
    low, high = C.jeffreys_interval(defaults, n)
    posterior = stats.beta(defaults + 0.5, n - defaults + 0.5)
    assert low == pytest.approx(posterior.ppf(0.025), rel=1e-9)
    assert high == pytest.approx(posterior.ppf(0.975), rel=1e-9)
    assert low < defaults / n < high


def test_jeffreys_interval_at_the_edges():
    """No default: lower bound 0; all defaults: upper bound 1 (Brown, Cai, DasGupta)."""
    low, high = C.jeffreys_interval(0, 50)
    assert low == 0 and high == pytest.approx(stats.beta(0.5, 50.5).ppf(0.975))
    low, high = C.jeffreys_interval(50, 50)
    assert high == 1 and low == pytest.approx(stats.beta(50.5, 0.5).ppf(0.025))


def test_binomial_pvalue_by_hand():
    """Two-sided exact test: the probability of every count no more likely than the one seen."""
    n, p, seen = 10, 0.1, 4
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    expected = sum(value for value in pmf if value <= pmf[seen] * (1 + 1e-7))
    frame = C.table(np.r_[np.ones(seen), np.zeros(n - seen)], np.full(n, p), grades=[0.5])
    assert frame["binom_pvalue"].iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize(("intercept", "slope"), [(0.0, 1.0), (-0.4, 0.8), (0.3, 1.3)])
def test_recalibration_recovers_a_known_miscalibration(intercept, slope):
    """Outcomes drawn from logit P = a + b logit(PD): the fit recovers a and b."""
    rng = np.random.default_rng(11)
    pd_model = rng.uniform(0.02, 0.9, 200_000)
    truth = 1 / (1 + np.exp(-(intercept + slope * C.logit(pd_model))))
    y = (rng.random(len(truth)) < truth).astype(int)
    fitted_intercept, fitted_slope, _ = C.recalibration(y, pd_model)
    assert fitted_intercept == pytest.approx(intercept, abs=0.03)
    assert fitted_slope == pytest.approx(slope, abs=0.03)


def test_calibration_in_the_large_is_the_offset_intercept():
    """With the slope held at 1, the intercept makes the mean of the recalibrated PDs equal the
    observed rate (the score equation of an intercept-only fit)."""
    rng = np.random.default_rng(5)
    pd_model = rng.uniform(0.05, 0.6, 5000)
    y = (rng.random(5000) < pd_model * 1.2).astype(int)
    _, _, in_the_large = C.recalibration(y, pd_model)
    shifted = 1 / (1 + np.exp(-(C.logit(pd_model) + in_the_large)))
    assert shifted.mean() == pytest.approx(y.mean(), abs=1e-9)
    assert in_the_large > 0  # more defaults than predicted


def test_logistic_fit_reports_separation_as_nan():
    """Perfectly separated outcomes have no finite fit: NaN, not a huge number."""
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    beta = C.logistic_fit(np.array([0, 0, 1, 1]), x, np.zeros(4))
    assert np.isnan(beta).all()


def test_deciles_and_grades():
    """Deciles split 1,000 distinct scores into ten buckets of 100; ties share a bucket;
    grades cut at the given PDs, lower bound included."""
    score = np.linspace(0.001, 0.999, 1000)
    assert np.bincount(C.buckets(score)).tolist() == [100] * 10
    assert len(np.unique(C.buckets(np.r_[np.full(600, 0.2), score[:400]]))) < 10
    grades = C.buckets(np.array([0.01, 0.05, 0.07, 0.1, 0.5]), [0.05, 0.1])
    assert grades.tolist() == [0, 1, 1, 2, 2]


def test_table_and_back_test():
    """Buckets cover every row; metrics hold the issue's names; grades drop empty buckets."""
    rng = np.random.default_rng(2)
    score = rng.uniform(0, 1, 2000)
    y = (rng.random(2000) < score).astype(int)
    metrics, frame = C.back_test(y, score)
    assert list(frame.columns) == list(C.COLUMNS)
    assert frame["n"].sum() == 2000 and frame["defaults"].sum() == y.sum()
    assert frame["score_low"].is_monotonic_increasing
    assert {"hl_statistic", "hl_pvalue", "slope", "intercept", "ece"} <= set(metrics)
    assert metrics["buckets"] == 10 and metrics["hl_df"] == 10
    assert metrics["hl_pvalue"] > 0.001 and abs(metrics["slope"] - 1) < 0.2  # well calibrated
    _, graded = C.back_test(y, score * 0.5, grades=[0.1, 0.2, 0.9])
    assert graded["bucket"].tolist() == [1, 2, 3]  # the empty >= 0.9 grade is dropped
