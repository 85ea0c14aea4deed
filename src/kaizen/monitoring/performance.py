"""Model performance on a window of scored events, before and after the outcomes arrive.

Estimated (no outcome needed), as NannyML's confidence-based performance estimation (CBPE):
with calibrated scores p_i, rows sorted by score, the expected true positives above a cut are
the running sum of p_i and the expected false positives the running sum of 1 - p_i; that gives
an expected ROC curve and AUC, the expected default rate mean(p) and the expected cost at the
decision threshold. The band is the spread of the realised value if outcomes were drawn from the
scores themselves (parametric bootstrap). It holds only if the scores are calibrated on this
population and P(default | inputs) has not changed (concept drift is invisible to it), so the
calibration evidence of the test split is checked and reported with it.

Realised on matured events (outcome window passed): ROC AUC, Gini, KS, cost, calibration and
the AUC-decline test. Calibration: one global Hosmer-Lemeshow test over the grades (chi-squared
with G degrees of freedom: the window's events were not used to fit the model) decides the level;
the per-grade table says where and which way, with the two-sided Jeffreys test (ECB IRB
validation reporting, 2019: Beta(D + 1/2, N - D + 1/2) cdf at the grade's PD, both tails)
Holm-adjusted across the grades, so that over-prediction shows as well as under-prediction.
(The smallest of 7 one-sided p-values warned on 28 % of calibrated windows, blind to
over-prediction.) The AUC-decline test is one-sided and unpaired:
S = (AUC_dev - AUC_now) / sqrt(s.e.(AUC_dev)^2 + s.e.(AUC_now)^2), both DeLong standard errors.
AUC_dev is itself measured on a sample (the 620-row test split by default) whose s.e. is of the
window's order: the ECB form that counts only s.e.(AUC_now) raised false alarms to 10-22 %.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import rankdata

from kaizen.pipeline import calibration as C
from kaizen.pipeline import metrics as M
from kaizen.drift.statistics import adjust
from kaizen.format import fmt
from kaizen.monitoring.selective import Baseline, UntestedGrade, untested_grades

ASSUMPTIONS = (
    "the scores are calibrated probabilities of default for this population (checked on the "
    "test split below)",
    "no concept drift: P(default | inputs) is what it was in training; the estimate cannot see "
    "a change in it, only realised performance on matured outcomes can",
    "outcomes fed back use the training target's definition of default",
)
DRAWS = 200  # parametric-bootstrap draws for the band
SIMULATED_ROWS = 50_000  # rows simulated at most; the band is rescaled to the window size
BATCH_CELLS = 2_000_000  # draws x rows per vectorised batch


def expected_auc(score, rank_by=None) -> float:
    """CBPE ROC AUC: trapezoid under the expected ROC curve (ties are one step). The rows are
    ranked by `rank_by` (the raw scores the realised AUC ranks by) when given, else by `score`:
    a recalibration map with steps (isotonic) would otherwise tie rows the model tells apart."""
    p = np.clip(np.asarray(score, dtype="float64"), 0.0, 1.0)
    if p.size == 0:
        return float("nan")
    key = p if rank_by is None else np.asarray(rank_by, dtype="float64")
    order = np.argsort(-key, kind="stable")
    keys = key[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    del keys, key  # a million events: 8 MB each; the gathers one at a time keep the peak low
    ranked = p[order]
    del order, p
    positives = np.add.reduceat(ranked, starts)
    negatives = np.add.reduceat(1.0 - ranked, starts)
    total_pos, total_neg = positives.sum(), negatives.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    above = np.cumsum(positives) - positives  # expected positives ranked above each tie group
    return float(np.sum(negatives * (above + positives / 2)) / (total_pos * total_neg))


def expected_cost(
    score, threshold: float, cost_fn: float, cost_fp: float, decided_by=None
) -> float:
    """Expected cost per application when refusing scores (`decided_by`, the raw scores the
    decisions were taken on, when given) >= threshold."""
    p = np.clip(np.asarray(score, dtype="float64"), 0.0, 1.0)
    refuse = (p if decided_by is None else np.asarray(decided_by, dtype="float64")) >= threshold
    return float((cost_fn * p[~refuse].sum() + cost_fp * (1 - p[refuse]).sum()) / max(p.size, 1))


def _draws(sample: np.ndarray, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """DRAWS outcome vectors ~ Bernoulli(sample), in batches of at most BATCH_CELLS cells."""
    per_batch = max(1, BATCH_CELLS // max(sample.size, 1))
    for start in range(0, DRAWS, per_batch):
        yield rng.random((min(per_batch, DRAWS - start), sample.size)) < sample


def _simulated_spread(  # pylint: disable=too-many-locals
    score, threshold: float, costs: tuple[float, float], seed: int, rank_by=None
) -> dict:
    """Standard deviations of realised AUC, default rate and cost with outcomes ~ Bernoulli(p),
    the AUC ranking rows by `rank_by` (the raw scores) when given and deciding on it too."""
    p = np.clip(np.asarray(score, dtype="float64"), 0.0, 1.0)
    key = p if rank_by is None else np.asarray(rank_by, dtype="float64")
    rng = np.random.default_rng(seed)
    rows = rng.choice(p.size, SIMULATED_ROWS, replace=False) if p.size > SIMULATED_ROWS else None
    sample = p if rows is None else p[rows]
    ranks = rankdata(key if rows is None else key[rows])
    refuse = (key if rows is None else key[rows]) >= threshold
    found: dict[str, list] = {"auc": [], "default_rate": [], "cost": []}
    for draws in _draws(sample, rng):
        n_pos = draws.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            found["auc"].append(
                (draws @ ranks - n_pos * (n_pos + 1) / 2) / (n_pos * (sample.size - n_pos))
            )
        found["default_rate"].append(n_pos / sample.size)
        missed, refused_good = (draws & ~refuse).sum(axis=1), (~draws & refuse).sum(axis=1)
        found["cost"].append((costs[0] * missed + costs[1] * refused_good) / sample.size)
    scale = math.sqrt(sample.size / p.size) if p.size else 1.0  # spread shrinks as 1/sqrt(rows)
    out = {}
    for name, values in found.items():
        finite = np.concatenate(values)
        finite = finite[np.isfinite(finite)]
        out[name] = float(np.std(finite, ddof=1) * scale) if finite.size > 1 else float("nan")
    return out


@dataclass(frozen=True)
class Estimate:  # pylint: disable=too-many-instance-attributes
    """Performance expected from the scores alone, with one standard error each."""

    rows: int
    roc_auc: float
    roc_auc_se: float
    default_rate: float
    default_rate_se: float
    cost: float
    cost_se: float
    supported: bool = True
    caveat: str = ""
    assumptions: tuple[str, ...] = ASSUMPTIONS


def estimate(  # pylint: disable=too-many-arguments
    score,
    threshold: float,
    costs: tuple[float, float],
    evidence: "Calibration | None" = None,
    *,
    raw=None,
    caveat: str = "",
) -> Estimate:
    """CBPE estimate of ROC AUC, default rate and cost from the probabilities `score` (the raw
    scores recalibrated on the test split), rows ranked and decided by `raw` when given; not
    supported when the calibration evidence or `caveat` says so. The band is the window's
    sampling spread given the bundle: the map's own error is common to every window and to the
    same estimator on the test split, so it cancels in their comparison."""
    p = np.asarray(score, dtype="float64")
    if p.size == 0:
        nan = float("nan")
        return Estimate(0, nan, nan, nan, nan, nan, nan, False, "no events")
    spread = _simulated_spread(p, threshold, costs, seed=p.size, rank_by=raw)
    auc = expected_auc(p, rank_by=raw)
    if evidence is not None and not evidence.supported:
        caveat = evidence.summary
    supported = not caveat
    return Estimate(
        rows=int(p.size),
        roc_auc=auc,
        roc_auc_se=spread["auc"],
        default_rate=float(np.clip(p, 0, 1).mean()),
        default_rate_se=spread["default_rate"],
        cost=expected_cost(p, threshold, *costs, decided_by=raw),
        cost_se=spread["cost"],
        supported=supported,
        caveat=caveat,
    )


OUT_OF_RANGE = 0.05  # share of window scores outside the recalibration's fit that voids it


def estimate_support(recalibration, scores, min_defaults: int) -> str:
    """Why the recalibrated estimate cannot be trusted ("" when it can): a map fitted on too few
    defaults or non-defaults, or a window whose scores lie outside the fitted range (the map is
    flat there, so the estimate would be an extrapolation)."""
    if recalibration is None:
        return ""
    rows, defaults = recalibration.rows, recalibration.defaults
    if min(defaults, rows - defaults) < min_defaults:
        return (
            f"the recalibration was fitted on {defaults} defaults of {rows} test rows, fewer "
            f"defaults or non-defaults than monitor.min_defaults = {min_defaults}"
        )
    s = np.asarray(scores, dtype="float64")
    outside = float(np.mean((s < recalibration.low) | (s > recalibration.high))) if s.size else 0
    if outside > OUT_OF_RANGE:
        return (
            f"{outside:.0%} of the window's scores lie outside [{fmt(recalibration.low)}, "
            f"{fmt(recalibration.high)}], the test-split scores the recalibration was fitted on "
            f"(more than {OUT_OF_RANGE:.0%})"
        )
    return ""


# --- realised performance ------------------------------------------------------------------------


@dataclass(frozen=True)
class AucTest:
    """The AUC-decline test (no statistic when the s.e. is undefined); `se` is the window's
    DeLong s.e., `se_dev` the baseline's (0: the baseline taken as exact, the ECB form)."""

    auc_dev: float
    auc_now: float
    se: float
    statistic: float | None = None
    p_value: float | None = None
    se_dev: float = 0.0


def auc_decline_test(auc_dev: float, y_true, score, se_dev: float = 0.0) -> AucTest:
    """AUC-decline test, unpaired: S = (AUC_dev - AUC_now) / sqrt(se_dev^2 + se_now^2),
    p = 1 - Phi(S). `se_dev` is the DeLong s.e. of AUC_dev on its own sample (independent of
    the window's events); 0 gives the ECB form, whose false-alarm rate exceeds its level."""
    auc_now = M.roc_auc(y_true, score)
    se = M.delong_se(y_true, score)
    dev = se_dev if math.isfinite(se_dev) else 0.0
    total = math.sqrt(se**2 + dev**2) if math.isfinite(se) else math.nan
    if not (math.isfinite(auc_now) and math.isfinite(total)) or total == 0:
        return AucTest(auc_dev, auc_now, se, se_dev=dev)
    statistic = (auc_dev - auc_now) / total
    return AucTest(auc_dev, auc_now, se, statistic, float(stats.norm.sf(statistic)), dev)


def grade_edges(reference_scores, grades: int) -> np.ndarray:
    """Inner grade boundaries: quantiles of the reference (test-split) scores, distinct."""
    levels = np.linspace(0, 1, grades + 1)[1:-1]
    return np.unique(np.quantile(np.asarray(reference_scores, dtype="float64"), levels))


OVER, UNDER = "over-predicts", "under-predicts"  # PD above / below the observed default rate


@dataclass(frozen=True)
class Grade:  # pylint: disable=too-many-instance-attributes
    """One score grade: its bounds, events, defaults, PD (mean score), default rate, the
    two-sided Jeffreys p-value, that p Holm-adjusted across the grades, and which way the PD
    misses (over-predicts: PD above the default rate)."""

    grade: int
    low: float
    high: float
    rows: int
    defaults: int
    pd: float
    default_rate: float
    p_value: float
    p_adjusted: float = 1.0
    direction: str = ""


@dataclass(frozen=True)
class CalibrationGrade(Grade):
    """A grade of the test split's calibration check, with its Holm-adjusted two-sided p."""

    p_adjusted_two_sided: float = 1.0


def jeffreys_by_grade(y_true, score, edges: np.ndarray) -> list[Grade]:
    """Per non-empty grade: rows, defaults, PD (mean score), default rate, the two-sided
    Jeffreys p-value 2 min(F(PD), 1 - F(PD)) with F the Beta(D + 1/2, N - D + 1/2) cdf, its
    Holm adjustment across the grades and the direction of the miss."""
    y = np.asarray(y_true, dtype="float64")
    s = np.asarray(score, dtype="float64")
    grade = np.searchsorted(edges, s, side="right")
    bounds = np.r_[0.0, edges, 1.0]
    out = []
    for index in range(edges.size + 1):
        mask = grade == index
        n = int(mask.sum())
        if not n:
            continue
        defaults = int(y[mask].sum())
        pd_ = float(s[mask].mean())
        lower = float(stats.beta.cdf(pd_, defaults + 0.5, n - defaults + 0.5))
        out.append(
            Grade(
                grade=index + 1,
                low=float(bounds[index]),
                high=float(bounds[index + 1]),
                rows=n,
                defaults=defaults,
                pd=pd_,
                default_rate=defaults / n,
                p_value=min(1.0, 2 * min(lower, 1 - lower)),
                direction=OVER if pd_ > defaults / n else UNDER if pd_ < defaults / n else "",
            )
        )
    adjusted = adjust([g.p_value for g in out], "holm") if out else np.empty(0)
    return [replace(g, p_adjusted=float(p)) for g, p in zip(out, adjusted)]


@dataclass(frozen=True)
class HosmerLemeshow:
    """The global calibration test of labelled events over the grades: sum (O - E)^2 /
    (E (1 - E / n)), chi-squared with G (non-empty grades) degrees of freedom."""

    statistic: float
    df: int
    p_value: float


def hosmer_lemeshow(grades: list[Grade]) -> HosmerLemeshow:
    """Hosmer-Lemeshow over the grades (NaN without a grade)."""
    table = pd.DataFrame(
        {
            "n": [g.rows for g in grades],
            "defaults": [g.defaults for g in grades],
            "mean_pd": [g.pd for g in grades],
        }
    )
    statistic, p, df = C.hosmer_lemeshow(table)
    return HosmerLemeshow(statistic, df, p)


@dataclass(frozen=True)
class Calibration:
    """Does the test split support reading scores as probabilities? (two-sided Jeffreys per
    grade, Holm-adjusted, and the test split's expected vs realised ROC AUC)."""

    supported: bool
    summary: str
    grades: list[CalibrationGrade] = field(default_factory=list)
    expected_auc: float | None = None
    realised_auc: float | None = None


def calibration_evidence(y_true, score, edges: np.ndarray, alpha: float = 0.05) -> Calibration:
    """Calibration check of the reference (test-split) scores against their outcomes."""
    graded = jeffreys_by_grade(y_true, score, edges)
    adjusted = [g.p_adjusted for g in graded]
    failing = [g.grade for g, p in zip(graded, adjusted) if p < alpha]
    expected, observed = expected_auc(score), M.roc_auc(y_true, score)
    if failing:
        summary = (
            f"calibration not supported: grade(s) {', '.join(map(str, failing))} of the test "
            f"split miss their default rate (Jeffreys, Holm-adjusted p < {alpha}); the "
            "estimated performance may be biased"
        )
    else:
        summary = (
            f"calibration supported on the test split ({len(graded)} grades, Jeffreys, "
            f"Holm-adjusted p >= {alpha}); expected ROC AUC {fmt(expected)} vs realised "
            f"{fmt(observed)} there"
        )
    grades = [CalibrationGrade(**asdict(g), p_adjusted_two_sided=g.p_adjusted) for g in graded]
    return Calibration(not failing, summary, grades, expected, observed)


@dataclass(frozen=True)
class Realised:  # pylint: disable=too-many-instance-attributes
    """Performance on matured labelled events, with the estimate on the same events and its
    error (estimated minus realised ROC AUC), the like-for-like baseline of the test split (the
    population the outcomes cover) and the grades no outcome back-tests."""

    rows: int
    defaults: int
    default_rate: float | None
    roc_auc: float
    roc_auc_se: float
    gini: float
    ks: float | None
    cost: float | None
    auc_test: AucTest
    grades: list[Grade]
    estimated_auc: float | None = None
    estimate_error: float | None = None
    hosmer_lemeshow: HosmerLemeshow | None = None
    baseline: Baseline | None = None
    untested: list[UntestedGrade] = field(default_factory=list)


def realised(  # pylint: disable=too-many-arguments
    y_true,
    score,
    threshold: float,
    costs: tuple[float, float],
    auc_dev: float,
    *,
    edges,
    auc_dev_se: float = 0.0,
    estimated: float | None = None,
    baseline: Baseline | None = None,
) -> Realised:
    """Realised metrics of labelled events: AUC, Gini, KS, cost, grades, AUC-decline test
    against `auc_dev` (the baseline's AUC; unpaired, with the baseline's s.e. `auc_dev_se`);
    the CBPE estimate on the same events (`estimated`, the monitor's estimator, else CBPE of
    the raw scores) and its error."""
    y = np.asarray(y_true).astype(int)
    s = np.asarray(score, dtype="float64")
    auc = M.roc_auc(y, s)
    test = auc_decline_test(auc_dev, y, s, auc_dev_se)
    if estimated is None:
        estimated = expected_auc(s)
    grades = jeffreys_by_grade(y, s, edges)
    return Realised(
        rows=int(y.size),
        defaults=int(y.sum()),
        default_rate=float(y.mean()) if y.size else None,
        roc_auc=auc,
        roc_auc_se=test.se,
        gini=2 * auc - 1,
        ks=M.ks_statistic(y, s) if 0 < y.sum() < y.size else None,
        cost=M.expected_cost(y, s, threshold, *costs) if y.size else None,
        auc_test=test,
        grades=grades,
        estimated_auc=estimated,
        estimate_error=estimated - auc if math.isfinite(auc) else None,
        hosmer_lemeshow=hosmer_lemeshow(grades),
        baseline=baseline,
        untested=untested_grades(edges, {g.grade for g in grades}, threshold),
    )
