"""Selective labels: in production only accepted applicants get an outcome (a refused one never
repays or defaults), so realised performance covers the accepted region only and must be
compared with the test split restricted to the same region, never with the whole test split
(whose AUC, over a wider score range, is higher by construction).

This module says which population the labelled events cover, computes the like-for-like
baseline on the test split (ROC AUC with its DeLong s.e.) and lists the grades that no outcome
can back-test (all in the refused region). docs/monitoring-selective-labels.md explains why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kaizen.pipeline import metrics as M

ACCEPTED = "accepted applicants"
EVERYONE = "all applicants"
REFUSED_REGION = "not back-tested (refused region)"
NO_OUTCOME = "not back-tested (no outcome yet)"


@dataclass(frozen=True)
class Baseline:  # pylint: disable=too-many-instance-attributes
    """The test split's figures for the population the window's outcomes cover."""

    population: str  # ACCEPTED or EVERYONE
    threshold: float  # the decision threshold the events were decided with
    rows: int
    defaults: int
    roc_auc: float
    roc_auc_se: float  # DeLong
    estimated_auc: float | None = None  # the estimator (CBPE) on the same test rows
    cost: float | None = None  # cost per application of the same test rows at the threshold

    @property
    def describe(self) -> str:
        """'accepted applicants (score < 0.17), n = 290, defaults = 26'."""
        where = f" (score < {self.threshold:.4g})" if self.population == ACCEPTED else ""
        return f"{self.population}{where}, n = {self.rows:,}, defaults = {self.defaults:,}"


@dataclass(frozen=True)
class UntestedGrade:
    """A score grade with no matured labelled event, and why."""

    grade: int
    low: float
    high: float
    reason: str


def decided_threshold(frame: pd.DataFrame, threshold: float) -> float:
    """The threshold the window's events were decided with: the bundle's, unless the stored
    decisions contradict it (a server run with KAIZEN_THRESHOLD), then the smallest refused
    score (refuse when score >= threshold)."""
    if frame.empty or "decision" not in frame:
        return threshold
    refused = (frame["decision"] == "refuse").to_numpy(dtype=bool)
    score = frame["score"].to_numpy(dtype="float64")
    consistent = np.all(score[refused] >= threshold) and np.all(score[~refused] < threshold)
    if consistent or not refused.any():
        return threshold
    return float(score[refused].min())


def population(frame: pd.DataFrame, judged: pd.Series) -> str:
    """ACCEPTED when no judged outcome belongs to a refused application (production), else
    EVERYONE (outcomes of refused applicants: a demo or a randomised accept sample)."""
    if "decision" not in frame:
        return EVERYONE
    decisions = frame.loc[judged, "decision"]
    return EVERYONE if (decisions == "refuse").any() else ACCEPTED


def region(scores, threshold: float, covered: str) -> np.ndarray:
    """Mask of the test rows in the population `covered` (ACCEPTED: scores below threshold)."""
    s = np.asarray(scores, dtype="float64")
    return s < threshold if covered == ACCEPTED else np.ones(s.size, dtype=bool)


def baseline(  # pylint: disable=too-many-arguments
    labels,
    scores,
    threshold: float,
    covered: str,
    *,
    estimated: float | None = None,
    costs: tuple[float, float] | None = None,
) -> Baseline:
    """The test split restricted to `covered` (ACCEPTED: scores below the threshold): its ROC
    AUC and DeLong s.e., its cost per application with `costs` (cost_fn, cost_fp); `estimated`
    is the CBPE estimate on the same rows (the caller's)."""
    keep = region(scores, threshold, covered)
    y = np.asarray(labels).astype(int)[keep]
    s = np.asarray(scores, dtype="float64")[keep]
    both = 0 < y.sum() < y.size
    return Baseline(
        population=covered,
        threshold=float(threshold),
        rows=int(y.size),
        defaults=int(y.sum()),
        roc_auc=M.roc_auc(y, s) if both else math.nan,
        roc_auc_se=M.delong_se(y, s) if both else math.nan,
        estimated_auc=estimated,
        cost=M.expected_cost(y, s, threshold, *costs) if costs is not None and y.size else None,
    )


def untested_grades(edges: np.ndarray, tested: set[int], threshold: float) -> list[UntestedGrade]:
    """Grades (1-based, bounds from `edges`) with no judged outcome: in the refused region when
    the whole grade lies at or above the threshold, else simply without outcomes yet."""
    bounds = np.r_[0.0, np.asarray(edges, dtype="float64"), 1.0]
    out = []
    for index in range(bounds.size - 1):
        if index + 1 in tested:
            continue
        low, high = float(bounds[index]), float(bounds[index + 1])
        reason = REFUSED_REGION if low >= threshold else NO_OUTCOME
        out.append(UntestedGrade(index + 1, low, high, reason))
    return out
