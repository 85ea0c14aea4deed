"""A model validator's checks of a scorecard, each a named pass/fail with its reason.

- `monotone_points`: a numeric feature's points never change direction across its ordered
  bins (features in `train.scorecard.exempt` excepted, and named);
- `min_bin_share`: every regular bin holds at least `min_bin_share` of the training rows
  (special and missing bins are kept however small: their points are explicit);
- `iv_range`: each feature's information value lies in [iv_min, iv_max] (below: useless;
  above: suspicious, look for leakage);
- `coefficient_signs`: every coefficient on WoE is negative (WoE grows with the share of
  non-defaults, so a positive one reverses its feature's evidence);
- `age_rule`: Regulation B (12 CFR 1002.6(b)(2)): when age is an input, bins holding applicants
  aged ELDERLY or over are never given fewer points than any other age bin;
- `points_sum`: every row's score equals the sum of the points the table gives it;
- `pdo_doubling`: `pdo` more points double the odds of good, to TOLERANCE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kaizen.config import ScorecardConfig
from kaizen.pipeline import scorecard as S

ELDERLY = 62  # Regulation B: an elderly applicant is 62 or older
TOLERANCE = 1e-6  # relative error allowed on the doubling of the odds
NAMES = (
    "monotone_points",
    "min_bin_share",
    "iv_range",
    "coefficient_signs",
    "age_rule",
    "points_sum",
    "pdo_doubling",
)


@dataclass(frozen=True)
class Check:
    """One validator check: its name, verdict and a one-line reason."""

    name: str
    passed: bool
    detail: str


def _regular(points: pd.DataFrame) -> pd.DataFrame:
    """The regular (ordered or category) bins of the table."""
    return points[points["kind"] == S.REGULAR]


def monotone_points(points: pd.DataFrame, config: ScorecardConfig) -> Check:
    """Points never change direction across a numeric feature's bins (exempted ones aside)."""
    broken = []
    for name, bins in _regular(points).groupby("feature", sort=False):
        if bins["categories"].notna().any() or name in config.exempt:
            continue
        steps = np.diff(bins.sort_values("index")["points"].to_numpy())
        if (steps > 0).any() and (steps < 0).any():
            broken.append(name)
    exempt = f" (exempt: {', '.join(config.exempt)})" if config.exempt else ""
    if broken:
        return Check(NAMES[0], False, f"not monotone: {', '.join(broken)}{exempt}")
    return Check(NAMES[0], True, f"every numeric feature's points are monotone{exempt}")


def min_bin_share(points: pd.DataFrame, config: ScorecardConfig) -> Check:
    """Every regular bin holds at least the minimum share of training rows."""
    regular = _regular(points)
    small = regular[regular["share"] < config.min_bin_share - 1e-12]
    if len(small):
        named = ", ".join(f"{r.feature} {r.bin} ({r.share:.1%})" for r in small.itertuples())
        return Check(NAMES[1], False, f"bins under {config.min_bin_share:.0%}: {named}")
    return Check(NAMES[1], True, f"every bin holds >= {config.min_bin_share:.0%} of the rows")


def iv_range(points: pd.DataFrame, config: ScorecardConfig) -> Check:
    """Each feature's information value lies in [iv_min, iv_max]."""
    values = S.information_values(points)
    outside = values[(values < config.iv_min) | (values > config.iv_max)]
    if len(outside):
        named = ", ".join(f"{name} {value:.3f}" for name, value in outside.items())
        band = f"[{config.iv_min}, {config.iv_max}]"
        return Check(NAMES[2], False, f"IV outside {band}: {named}")
    return Check(NAMES[2], True, f"every IV in [{config.iv_min}, {config.iv_max}]")


def coefficient_signs(features: list[str], coefficients: np.ndarray) -> Check:
    """Every coefficient on WoE is negative (the direction the WoE says)."""
    wrong = [name for name, value in zip(features, coefficients) if value >= 0]
    if wrong:
        return Check(NAMES[3], False, f"coefficient >= 0 on WoE: {', '.join(wrong)}")
    return Check(NAMES[3], True, "every coefficient on WoE is negative")


def age_rule(points: pd.DataFrame, config: ScorecardConfig) -> Check:
    """Regulation B: the bins of applicants aged ELDERLY+ get at least every other age bin's
    points (not applicable when age is not an input)."""
    column = config.age_column
    bins = _regular(points)
    bins = bins[bins["feature"] == column]
    if column is None or bins.empty:
        return Check(NAMES[4], True, "not applicable: no age input")
    elderly = bins[bins["upper"] > ELDERLY]
    lowest, highest = elderly["points"].min(), bins["points"].max()
    if lowest < highest:
        return Check(
            NAMES[4], False, f"{column} {ELDERLY}+ gets {lowest:g} points, another bin {highest:g}"
        )
    return Check(NAMES[4], True, f"{column} {ELDERLY}+ gets the most points on age ({lowest:g})")


def points_sum(points: pd.DataFrame, pipeline, features: pd.DataFrame, special=()) -> Check:
    """Every row's score (the pipeline's) equals the sum of its points (the table's)."""
    inputs = pipeline.named_steps["features"].transform(features)
    scores = pipeline.steps[-1][1].score(pipeline.named_steps["prep"].transform(inputs))
    summed = S.table_points(points, inputs, special).to_numpy().sum(axis=1)
    differ = int(np.count_nonzero(np.abs(summed - scores) > 1e-9))
    if differ:
        return Check(NAMES[5], False, f"{differ} of {len(scores)} rows: score != sum of points")
    return Check(NAMES[5], True, f"score = sum of points on all {len(scores)} rows")


def pdo_doubling(model, scores: np.ndarray) -> Check:
    """`pdo` more points double the odds of good, at every observed score."""
    grid = np.unique(np.asarray(scores, dtype=float))
    bad, bad_up = model.default_probability(grid), model.default_probability(grid + model.pdo)
    ratio = ((1 - bad_up) / bad_up) / ((1 - bad) / bad)
    error = float(np.max(np.abs(ratio - 2.0) / 2.0)) if len(grid) else 0.0
    if error > TOLERANCE:
        return Check(NAMES[6], False, f"+{model.pdo:g} points multiply the odds by {ratio[0]:.6f}")
    return Check(NAMES[6], True, f"+{model.pdo:g} points double the odds (error {error:.1e})")


def run(pipeline, config: ScorecardConfig, features: pd.DataFrame, points=None) -> list[Check]:
    """Every check of a fitted scorecard on `features` (raw model inputs: the rows whose scores
    must equal their points); `points` defaults to the pipeline's own table."""
    points = S.table(pipeline) if points is None else points
    binning, model = pipeline.named_steps["prep"], pipeline.steps[-1][1]
    inputs = pipeline.named_steps["features"].transform(features)
    scores = model.score(binning.transform(inputs))
    return [
        monotone_points(points, config),
        min_bin_share(points, config),
        iv_range(points, config),
        coefficient_signs(binning.features, model.coef_[0]),
        age_rule(points, config),
        points_sum(points, pipeline, features, binning.special_codes),
        pdo_doubling(model, scores),
    ]


def summary(checks: list[Check]) -> dict:
    """The checks as metrics: one 0/1 per name, and the counts."""
    passed = sum(check.passed for check in checks)
    return {
        "checks": {check.name: int(check.passed) for check in checks},
        "checks_passed": passed,
        "checks_failed": len(checks) - passed,
    }
