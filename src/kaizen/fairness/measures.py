"""Group fairness figures at the production threshold, with fairlearn's MetricFrame as the engine.

Per protected attribute, part (test, current) and group: approval rate (score below the
threshold), adverse impact ratio (AIR: the group's approval rate over the reference group's),
true and false positive rates of a refusal (TPR: refused among defaulters; FPR: refused among
those who repaid), default rate, calibration within the group (observed over expected defaults,
with a Jeffreys interval on the observed rate), mean score; per attribute the equalized-odds
difference (the larger of the TPR and FPR gaps between judged groups, fairlearn's definition).

Every figure has a 95 % percentile-bootstrap interval (rows resampled within the part, seeded).
MetricFrame computes the point figures; the bootstrap recomputes the same definitions from
per-group counts, vectorised over the resamples (MetricFrame's own `n_boot` costs ~35 ms a
resample: over a minute a run), and a unit test checks both give the same figures.

Screening, not a verdict: an AIR under the band (0.8, the four-fifths rule of the US Uniform
Guidelines) flags a group for review; it proves nothing by itself. Groups smaller than
`min_group`, or compared with a reference that small, are reported and never judged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, false_positive_rate, true_positive_rate
from scipy import stats

from kaizen.fairness.params import FairnessConfig

LEVEL = 0.95
QUANTILES = ((1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2)
FIGURES = ("approval_rate", "air", "tpr", "fpr", "default_rate", "observed_expected", "mean_score")


def _approval_rate(y_true, y_pred) -> float:  # pylint: disable=unused-argument
    """Share approved (y_pred is 1 for a refusal)."""
    return float(1 - np.mean(y_pred))


def _default_rate(y_true, y_pred) -> float:  # pylint: disable=unused-argument
    """Observed default rate."""
    return float(np.mean(y_true))


def _mean_score(y_true, y_pred, score) -> float:  # pylint: disable=unused-argument
    """Mean predicted probability of default."""
    return float(np.mean(score))


def _expected(y_true, y_pred, score) -> float:  # pylint: disable=unused-argument
    """Expected defaults: the sum of the scores."""
    return float(np.sum(score))


def _defaults(y_true, y_pred) -> float:  # pylint: disable=unused-argument
    """Observed defaults."""
    return float(np.sum(y_true))


def metric_frame(y: np.ndarray, refused: np.ndarray, score: np.ndarray, groups) -> pd.DataFrame:
    """MetricFrame's by-group table: count, approval_rate, tpr, fpr, default_rate, defaults,
    expected, mean_score (labels of an unlabelled part are zeros: the caller drops them)."""
    frame = MetricFrame(
        metrics={
            "count": count,
            "approval_rate": _approval_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "default_rate": _default_rate,
            "defaults": _defaults,
            "expected": _expected,
            "mean_score": _mean_score,
        },
        y_true=y,
        y_pred=refused,
        sensitive_features=pd.Series(np.asarray(groups, dtype=object), name="group"),
        sample_params={"expected": {"score": score}, "mean_score": {"score": score}},
    )
    table: pd.DataFrame = frame.by_group
    return table


def group_sums(
    codes: np.ndarray, y: np.ndarray, refused: np.ndarray, score: np.ndarray, size: int
) -> np.ndarray:
    """Per group (axis -1) the counts behind every figure, for one sample or a stack of
    resamples (codes of shape (..., n)): n, refused, defaults, refused defaulters, refused
    non-defaulters, score sum. Shape (..., 6, size)."""
    lead = codes.shape[:-1]
    flat = (np.arange(int(np.prod(lead))).reshape(lead + (1,)) * size + codes).ravel()
    bins = int(np.prod(lead)) * size
    weights = (
        np.ones(codes.shape),
        refused,
        y,
        refused * y,
        refused * (1 - y),
        score,
    )
    sums = [np.bincount(flat, np.broadcast_to(w, codes.shape).ravel(), bins) for w in weights]
    return np.stack([s.reshape(lead + (size,)) for s in sums], axis=-2)


def figures(sums: np.ndarray, ref: int) -> dict[str, np.ndarray]:
    """Each figure per group from `group_sums` (NaN where undefined)."""
    n, refused, defaults, hit, false_alarm, score = np.moveaxis(sums, -2, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        approval = 1 - refused / n
        return {
            "approval_rate": approval,
            "air": approval / approval[..., ref : ref + 1],
            "tpr": hit / defaults,
            "fpr": false_alarm / (n - defaults),
            "default_rate": defaults / n,
            "observed_expected": defaults / score,
            "mean_score": score / n,
        }


def points(table: pd.DataFrame, ref: int) -> dict[str, np.ndarray]:
    """The figures from MetricFrame's by-group table (rows in label order); a rate without a
    denominator (TPR of a group with no defaulter) is NaN, not fairlearn's 0."""
    n = table["count"].to_numpy(dtype="float64")
    defaults = table["defaults"].to_numpy(dtype="float64")
    approval = table["approval_rate"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "approval_rate": approval,
            "air": approval / approval[ref],
            "tpr": np.where(defaults > 0, table["tpr"].to_numpy(dtype="float64"), np.nan),
            "fpr": np.where(n > defaults, table["fpr"].to_numpy(dtype="float64"), np.nan),
            "default_rate": table["default_rate"].to_numpy(dtype="float64"),
            "observed_expected": defaults / table["expected"].to_numpy(dtype="float64"),
            "mean_score": table["mean_score"].to_numpy(dtype="float64"),
        }


def equalized_odds(tpr: np.ndarray, fpr: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """The larger of the TPR and FPR ranges over the judged groups (NaN with fewer than 2)."""
    if judged.sum() < 2:
        return np.full(tpr.shape[:-1], np.nan)
    spans = [np.nanmax(v[..., judged], -1) - np.nanmin(v[..., judged], -1) for v in (tpr, fpr)]
    return np.maximum(*spans)


def jeffreys(defaults: float, n: float, expected: float) -> tuple[float, float]:
    """95 % Jeffreys interval of the observed default rate, over the expected rate."""
    if n <= 0 or expected <= 0:
        return math.nan, math.nan
    low, high = stats.beta.ppf(QUANTILES, defaults + 0.5, n - defaults + 0.5)
    if defaults == 0:
        low = 0.0
    if defaults == n:
        high = 1.0
    return float(low * n / expected), float(high * n / expected)


def _interval(values: np.ndarray) -> list[list[float | None]]:
    """Percentile interval per column of a (resamples, groups) array, NaN-aware."""
    out: list[list[float | None]] = []
    for column in values.T:
        kept = column[np.isfinite(column)]
        if len(kept) < 2:
            out.append([None, None])
        else:
            out.append([round(float(q), 6) for q in np.quantile(kept, QUANTILES)])
    return out


def _value(number: float) -> float | None:
    """Rounded, or None for NaN/inf (JSON has neither)."""
    return round(float(number), 6) if math.isfinite(number) else None


def attribute(  # pylint: disable=too-many-arguments,too-many-locals,too-many-positional-arguments
    y: np.ndarray | None,
    refused: np.ndarray,
    score: np.ndarray,
    groups: pd.Series,
    reference: str,
    config: FairnessConfig,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Every figure of one attribute on one part: per group (point, interval, size, judged,
    AIR screen) and the equalized-odds difference. `y` is None on an unlabelled part."""
    labels = sorted(set(groups.astype(str)) | {reference})
    codes = np.searchsorted(labels, groups.astype(str).to_numpy())
    ref = labels.index(reference)
    labelled = y is not None
    y_used = np.zeros(len(score)) if y is None else y.astype("float64")
    table = metric_frame(y_used.astype(int), refused.astype(int), score, groups.astype(str))
    point = points(table.reindex(labels), ref)
    sizes = np.bincount(codes, minlength=len(labels))
    judged = (sizes >= config.min_group) & (sizes[ref] >= config.min_group)
    boot: dict[str, np.ndarray] = {}
    if config.bootstrap and len(score):
        rows = rng.integers(0, len(score), (config.bootstrap, len(score)))
        resampled = group_sums(
            codes[rows], y_used[rows], refused[rows].astype(float), score[rows], len(labels)
        )
        boot = figures(resampled, ref)
    shown = FIGURES if labelled else ("approval_rate", "air", "mean_score")
    out: dict[str, Any] = {"reference": reference, "labelled": labelled, "groups": {}}
    for i, label in enumerate(labels):
        row: dict[str, Any] = {"n": int(sizes[i]), "judged": bool(judged[i])}
        for name in shown:
            row[name] = _value(point[name][i])
            if boot:
                row[f"{name}_ci"] = _interval(boot[name][:, i : i + 1])[0]
        if labelled and label in table.index:
            row["observed_expected_ci"] = [
                _value(v)
                for v in jeffreys(
                    table.at[label, "defaults"], sizes[i], table.at[label, "expected"]
                )
            ]
        row["air_screen"] = (
            "not judged"
            if not judged[i]
            else (
                "reference"
                if i == ref
                else "below band" if point["air"][i] < config.air_band else "within band"
            )
        )
        out["groups"][label] = row
    if labelled:
        eod = equalized_odds(point["tpr"], point["fpr"], judged)
        out["equalized_odds_difference"] = _value(float(eod))
        if boot:
            spread = equalized_odds(boot["tpr"], boot["fpr"], judged)
            out["equalized_odds_difference_ci"] = _interval(spread[:, None])[0]
    out["flagged"] = [g for g, row in out["groups"].items() if row["air_screen"] == "below band"]
    return out
