"""Calibration back-testing: do predicted default probabilities match observed default rates?

What a credit-risk validator asks of a PD model's outcomes, per part (test, current):
- a bucket table, by score decile or by rating grade (PD cut-offs in `evaluate.grades`), with
  the count, mean predicted PD, observed default rate, the Jeffreys interval of that rate and
  a two-sided binomial test of "the bucket's mean PD is right";
- the Hosmer-Lemeshow statistic over those buckets, chi-squared with G degrees of freedom: the
  scores are judged on rows the model was not fitted on (test split, current part), so no
  parameter was estimated from them (G - 2 is the in-sample convention, where the fit uses 2;
  with G - 2 a perfectly calibrated model fails 10.6 % of held-out tests instead of 5 %);
- the logistic recalibration fit logit P(default) = intercept + slope * logit(PD) (Cox): a slope
  below 1 means over-confident scores, an intercept away from 0 a level shift; and
  calibration-in-the-large, the intercept with the slope held at 1;
- the expected calibration error: the row-weighted mean |observed rate - mean PD| over buckets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaincinv, expit
from scipy.stats import binomtest, chi2

DECILES = 10
LEVEL = 0.95
EPSILON = 1e-6  # PDs are clipped to [EPSILON, 1 - EPSILON] before taking logits
COLUMNS = (
    "bucket",
    "score_low",
    "score_high",
    "n",
    "defaults",
    "mean_pd",
    "observed_rate",
    "jeffreys_low",
    "jeffreys_high",
    "binom_pvalue",
)


def jeffreys_interval(defaults: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Equal-tailed Jeffreys interval of a default rate: Beta(d + 1/2, n - d + 1/2) quantiles,
    with the lower bound 0 when d = 0 and the upper bound 1 when d = n (Brown, Cai, DasGupta)."""
    alpha = (1 - level) / 2
    a, b = defaults + 0.5, n - defaults + 0.5
    low = 0.0 if defaults == 0 else float(betaincinv(a, b, alpha))
    high = 1.0 if defaults == n else float(betaincinv(a, b, 1 - alpha))
    return low, high


def buckets(score: np.ndarray, grades: list[float] | None = None) -> np.ndarray:
    """Bucket number (0 = lowest scores) of each row: rating grade by PD cut-off, else decile.

    Deciles are quantiles of these scores; tied scores share a bucket, so there can be fewer
    than ten.
    """
    score = np.asarray(score, dtype="float64")
    if grades:
        return np.searchsorted(np.asarray(grades), score, side="right")
    codes = pd.qcut(score, DECILES, labels=False, duplicates="drop")
    return np.asarray(codes, dtype="int64")


def table(y_true, score, grades: list[float] | None = None, level: float = LEVEL) -> pd.DataFrame:
    """One row per non-empty bucket, lowest scores first (columns: COLUMNS)."""
    y_true = np.asarray(y_true).astype(int)
    score = np.asarray(score, dtype="float64")
    codes = buckets(score, grades)
    rows = []
    for number, code in enumerate(np.unique(codes), start=1):
        mask = codes == code
        n, defaults = int(mask.sum()), int(y_true[mask].sum())
        mean_pd = float(score[mask].mean())
        low, high = jeffreys_interval(defaults, n, level)
        rows.append(
            {
                "bucket": number,
                "score_low": float(score[mask].min()),
                "score_high": float(score[mask].max()),
                "n": n,
                "defaults": defaults,
                "mean_pd": mean_pd,
                "observed_rate": defaults / n,
                "jeffreys_low": low,
                "jeffreys_high": high,
                "binom_pvalue": float(binomtest(defaults, n, min(max(mean_pd, 0.0), 1.0)).pvalue),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def hosmer_lemeshow(buckets_table: pd.DataFrame) -> tuple[float, float, int]:
    """Hosmer-Lemeshow statistic sum (O - E)^2 / (E (1 - E / n)), its p-value and G df.

    O and E are the observed and expected (sum of PDs) defaults of a bucket. Held-out rows: G
    degrees of freedom (nothing was fitted on them). NaN without buckets, or with a bucket
    whose expected variance is 0.
    """
    n = buckets_table["n"].to_numpy(dtype="float64")
    observed = buckets_table["defaults"].to_numpy(dtype="float64")
    expected = n * buckets_table["mean_pd"].to_numpy(dtype="float64")
    variance = expected * (1 - expected / n)
    df = len(n)
    if df < 1 or np.any(variance <= 0):
        return float("nan"), float("nan"), max(df, 0)
    statistic = float(np.sum((observed - expected) ** 2 / variance))
    return statistic, float(chi2.sf(statistic, df)), df


def logit(score) -> np.ndarray:
    """Log-odds of PDs clipped away from 0 and 1."""
    p = np.clip(np.asarray(score, dtype="float64"), EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def logistic_fit(
    y_true, x: np.ndarray | None, offset: np.ndarray, iterations: int = 100
) -> np.ndarray:
    """Unpenalised logistic regression of y on [1, x] (x None: intercept only) plus an offset,
    by Newton-Raphson; the coefficients, or NaN when it does not converge (e.g. separation)."""
    y_true = np.asarray(y_true, dtype="float64")
    design = np.ones((len(y_true), 1 if x is None else 2))
    if x is not None:
        design[:, 1] = x
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        mu = expit(design @ beta + offset)
        weights = mu * (1 - mu)
        hessian = design.T @ (design * weights[:, None])
        try:
            step = np.linalg.solve(hessian, design.T @ (y_true - mu))
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            return beta
    return np.full(design.shape[1], np.nan)


def recalibration(y_true, score) -> tuple[float, float, float]:
    """(intercept, slope) of logit P(default) = intercept + slope * logit(PD), and
    calibration-in-the-large: the intercept with the slope fixed at 1."""
    x = logit(score)
    intercept, slope = logistic_fit(y_true, x, np.zeros(len(x)))
    (in_the_large,) = logistic_fit(y_true, None, x)
    return float(intercept), float(slope), float(in_the_large)


def expected_calibration_error(buckets_table: pd.DataFrame) -> float:
    """Row-weighted mean of |observed rate - mean PD| over the buckets."""
    n = buckets_table["n"].to_numpy(dtype="float64")
    gap = np.abs(buckets_table["observed_rate"] - buckets_table["mean_pd"]).to_numpy()
    return float(np.sum(n * gap) / n.sum()) if n.sum() else float("nan")


def back_test(y_true, score, grades: list[float] | None = None) -> tuple[dict, pd.DataFrame]:
    """Calibration metrics of one part, and its bucket table."""
    buckets_table = table(y_true, score, grades)
    statistic, pvalue, df = hosmer_lemeshow(buckets_table)
    intercept, slope, in_the_large = recalibration(y_true, score)
    metrics = {
        "buckets": len(buckets_table),
        "mean_pd": float(np.mean(score)),
        "hl_statistic": statistic,
        "hl_df": df,
        "hl_pvalue": pvalue,
        "slope": slope,
        "intercept": intercept,
        "in_the_large": in_the_large,
        "ece": expected_calibration_error(buckets_table),
    }
    return metrics, buckets_table
