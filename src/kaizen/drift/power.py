"""Sample-size guards from power: is a drift test able to see the effect its verdict is about?

A "stable" verdict claims that no shift at the warning threshold is there. That claim needs a
test that would have found such a shift: a component is judged (stable or flagged) only when
its test's power against an effect at its *warning* threshold reaches `drift.min_power`, at the
strictest level Holm can use, alpha / m (m: every test of the family, a feature's distribution,
missing-share and unseen-level tests). Below that power the component reads "insufficient data"
unless its test flags it anyway: a significant shift with an effect past the threshold is
evidence whatever the sample size (every test here keeps its level at any size: Pearson
chi-squared on cells merged to expected counts >= 5, Fisher's exact, exact binomial, exact KS),
whereas silence from a test without power is not.

Effect sizes at the threshold, as each test sees them:
- PSI t (chi-squared on the PSI bins): PSI is the symmetrised Kullback-Leibler divergence, equal
  to the chi-squared divergence sum (q - p)^2 / p to second order, so the statistic is
  non-central chi-squared with df = bins - 1 (after merging sparse cells at this size) and
  non-centrality n_eff * t, n_eff = n_ref n_cur / (n_ref + n_cur).
- Jensen-Shannon distance d (base 2, chi-squared test): JSD = d^2 ~ chi-squared divergence /
  (8 ln 2), so the non-centrality is n_eff * 8 ln 2 * d^2.
- KS (methods ks and wasserstein): a normal location shift as the reference effect: a shift of
  delta standard deviations has PSI ~ delta^2 and W1/sigma = delta; its KS distance is
  D = 2 Phi(delta / 2) - 1; sqrt(n_eff) D_hat is about normal with s.d. 1/2 around
  sqrt(n_eff) D (the s.d. of a Brownian bridge at its middle), against Kolmogorov's critical
  value. Conservative: the supremum over the whole bridge rejects more often (simulated power
  0.54 where this says 0.22); the chi-squared power is close (0.31 vs 0.31).
- missing share (Fisher): a change of missing_warning from the reference's share, normal
  approximation of the two-proportion test, two-sided.
- unseen share (binomial against 3 / n_ref): the exact binomial power at a share of
  unseen_warning.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from kaizen.config import DriftConfig
from kaizen.drift.statistics import merge_sparse

BROWNIAN_SD = 0.5  # s.d. of sqrt(n) (F_n - F) where F = 1/2


def effective_rows(n_reference: int, n_current: int) -> float:
    """n_ref n_cur / (n_ref + n_cur): the size of the one-sample problem a two-sample one is."""
    total = n_reference + n_current
    return n_reference * n_current / total if total else 0.0


def chi2_power(reference_counts, n_current: int, divergence: float, level: float) -> float:
    """Power of the chi-squared homogeneity test on the reference's bins (sparse cells merged
    as the test merges them) against a shift of chi-squared divergence `divergence`."""
    counts = np.asarray(reference_counts, dtype="float64")
    n_reference = counts.sum()
    if n_reference <= 0 or n_current <= 0:
        return 0.0
    expected = counts / n_reference * n_current  # the current side under no drift
    df = merge_sparse(np.vstack([counts, expected])).shape[1] - 1
    if df < 1:
        return 0.0
    critical = stats.chi2.isf(level, df)
    shift = effective_rows(int(n_reference), n_current) * divergence
    return float(stats.ncx2.sf(critical, df, shift))


def ks_power(n_reference: int, n_current: int, shift_sd: float, level: float) -> float:
    """Approximate power of the two-sample KS test against a normal location shift of
    `shift_sd` standard deviations."""
    n_eff = effective_rows(n_reference, n_current)
    if n_eff <= 0:
        return 0.0
    distance = 2 * stats.norm.cdf(shift_sd / 2) - 1
    critical = stats.kstwobign.isf(level)
    return float(stats.norm.cdf((math.sqrt(n_eff) * distance - critical) / BROWNIAN_SD))


def missing_power(
    share_reference: float, rows: tuple[int, int], change: float, level: float
) -> float:
    """Power of the two-sided test of equal missing shares against a change of `change`."""
    n_reference, n_current = rows
    if min(rows) <= 0:
        return 0.0
    low, high = share_reference, min(1.0, share_reference + change)
    pooled = (n_reference * low + n_current * high) / (n_reference + n_current)
    spread = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_reference + 1 / n_current))
    return float(stats.norm.cdf((high - low) / spread - stats.norm.isf(level / 2)))


def unseen_power(n_reference: int, n_current: int, share: float, level: float) -> float:
    """Exact power of the unseen-level binomial test (bound 3 / n_ref) at an unseen share."""
    if n_reference <= 0 or n_current <= 0:
        return 0.0
    bound = min(1.0, 3.0 / n_reference)
    # smallest count k with P(X >= k | bound) < level
    k = int(stats.binom.isf(level, n_current, bound)) + 1
    return float(stats.binom.sf(k - 1, n_current, share))


def distribution_power(  # pylint: disable=too-many-arguments,too-many-positional-arguments
    method: str,
    reference_counts,
    n_current: int,
    config: DriftConfig,
    level: float,
    kind: str,
) -> float:
    """Power of the distribution test of a feature against an effect at its warning threshold."""
    counts = np.asarray(reference_counts, dtype="float64")
    if kind == "numeric" and method in ("ks", "wasserstein"):
        shift = (
            config.distance_threshold if method == "wasserstein" else math.sqrt(config.psi_warning)
        )
        return ks_power(int(counts.sum()), n_current, shift, level)
    if method == "jensenshannon":
        divergence = 8 * math.log(2) * config.distance_threshold**2
    else:
        divergence = config.psi_warning
    return chi2_power(counts, n_current, divergence, level)
