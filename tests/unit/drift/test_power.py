"""Power of the drift tests against an effect at the warning threshold, checked by simulation."""

import numpy as np
import pytest
from scipy import stats

from kaizen.drift import power, statistics


@pytest.mark.parametrize("shift", [0.2, np.sqrt(0.10)])
def test_power_formulas_match_simulation(shift):
    """Against a normal location shift (sqrt(0.10) sd: PSI 0.10) at level 0.05 / 30, 300 seeded
    trials of 3,000 vs 400 rows: the chi-squared power (non-central) is within 0.06 of the
    rejection rate (measured 0.31 vs 0.31 and 0.94 vs 0.90); the KS power is a conservative
    approximation (one point of the Brownian bridge): at most 0.05 above the rate, at most 0.35
    below it (measured 0.22 vs 0.54 and 0.83 vs 0.98)."""
    rng = np.random.default_rng(7)
    level = 0.05 / 30
    chi2_hits = ks_hits = 0
    for _ in range(300):
        reference, current = rng.normal(size=3000), rng.normal(shift, 1.0, 400)
        bins = statistics.Bins.fit(reference)
        ref_counts = bins.count(reference)[:-1]
        chi2_hits += statistics.chi2_p_value(ref_counts, bins.count(current)[:-1]) < level
        ks_hits += stats.ks_2samp(reference, current).pvalue < level
    predicted = power.chi2_power(ref_counts, 400, shift**2, level)
    assert predicted == pytest.approx(chi2_hits / 300, abs=0.06)
    ks_predicted = power.ks_power(3000, 400, shift, level)
    assert ks_hits / 300 - 0.35 <= ks_predicted <= ks_hits / 300 + 0.05


def test_unseen_power_is_the_exact_binomial_power():
    """Critical count: the smallest k with P(X >= k | 3 / n_ref) < level; power P(X >= k | u)."""
    level, n_ref, n_cur, share = 0.001, 2000, 500, 0.03
    bound = 3 / n_ref
    k = next(k for k in range(n_cur) if stats.binom.sf(k - 1, n_cur, bound) < level)
    expected = stats.binom.sf(k - 1, n_cur, share)
    assert power.unseen_power(n_ref, n_cur, share, level) == pytest.approx(expected)
    assert power.unseen_power(n_ref, 0, share, level) == 0.0


def test_missing_power_against_simulated_fisher_tests():
    """A missing share going from 5 % to 10 % in 500 rows against 2,000, level 0.01: the normal
    approximation is within 0.08 of the rejection rate of Fisher's exact test over 400 seeded
    trials."""
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(400):
        ref, cur = rng.binomial(2000, 0.05), rng.binomial(500, 0.10)
        table = [[ref, 2000 - ref], [cur, 500 - cur]]
        hits += stats.fisher_exact(table).pvalue < 0.01
    predicted = power.missing_power(0.05, (2000, 500), 0.05, 0.01)
    assert predicted == pytest.approx(hits / 400, abs=0.08)


def test_power_grows_with_the_window():
    """More rows, more power; no rows, none."""
    counts = np.full(10, 300)
    small, large = (power.chi2_power(counts, n, 0.10, 0.001) for n in (200, 1000))
    assert 0 < small < large <= 1
    assert power.chi2_power(counts, 0, 0.10, 0.001) == 0.0
