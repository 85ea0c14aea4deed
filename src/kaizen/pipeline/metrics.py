"""Model-quality metrics for credit scoring: discrimination, calibration, business cost."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from scipy.stats import ks_2samp, rankdata

from kaizen import KaizenError, progress
from kaizen.config import EvaluateConfig

PARTS = {"current": "current, out-of-time", "test": "test, in-time"}  # evaluate's parts, labelled


def _sk():
    """scikit-learn's metrics, imported on first use: the monitor imports this module and uses
    none of them (scikit-learn is most of a second of its start-up)."""
    # pylint: disable-next=import-outside-toplevel
    from sklearn import metrics

    return metrics


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank formula (ties count half); NaN with one class."""
    y_true = np.asarray(y_true).astype(bool)
    n_pos = int(y_true.sum())
    n_neg = len(y_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def resample_counts(rng: np.random.Generator, n_rows: int, n_resamples: int) -> np.ndarray:
    """How often each row is drawn in each bootstrap resample (shape resamples x rows)."""
    draws = rng.integers(0, n_rows, (n_resamples, n_rows))
    offsets = (np.arange(n_resamples) * n_rows)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_rows)
    return counts.reshape(n_resamples, n_rows)


# A callable holding the sorted rows: one public method is its point.
class ResampledAuc:  # pylint: disable=too-few-public-methods
    """ROC AUC (ties count half) of bootstrap resamples of fixed rows, sorting the scores once.

    Each resample is a row weighting (how often each row was drawn); its AUC then takes O(n)
    on the sorted rows and equals `roc_auc(y[idx], score[idx])` for the drawn rows `idx`.
    """

    def __init__(self, y_true, score):
        score = np.asarray(score, dtype="float64")
        self.order = np.argsort(score, kind="stable")
        self.positive = np.asarray(y_true)[self.order].astype(bool)
        ranked = score[self.order]
        self.starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """AUC of each row of `counts` (shape resamples x rows, in the original row order)."""
        weights = np.take(counts, self.order, axis=1).astype("float64")  # take: 5x a fancy index
        pos = np.add.reduceat(weights * self.positive, self.starts, axis=1)
        neg = np.add.reduceat(weights * ~self.positive, self.starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        wins = (pos * (below + 0.5 * neg)).sum(axis=1)
        pairs = pos.sum(axis=1) * neg.sum(axis=1)
        return np.divide(wins, pairs, out=np.full(len(pairs), np.nan), where=pairs > 0)


BATCH_CELLS = 2_000_000  # resamples x rows per vectorised batch: bounds memory on large parts


def batches(n_rows: int, n_resamples: int) -> list[int]:
    """Batch sizes summing to `n_resamples`, each holding at most BATCH_CELLS counts."""
    size = max(1, min(n_resamples, BATCH_CELLS // max(n_rows, 1)))
    return [min(size, n_resamples - start) for start in range(0, n_resamples, size)]


def percentile_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite values (NaN, NaN when there are none)."""
    values = np.asarray(values, dtype="float64")
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))


def bootstrap_auc(
    y_true: np.ndarray, score: np.ndarray, n_resamples: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the ROC AUC (resampling rows with replacement)."""
    auc = ResampledAuc(y_true, score)
    rng = np.random.default_rng(seed)
    n_rows = len(auc.order)
    sizes = batches(n_rows, n_resamples)
    steps = progress.steps(sizes, len(sizes), "ROC AUC bootstrap resamples (batches)")
    values = [auc(resample_counts(rng, n_rows, size)) for size in steps]
    return percentile_interval(np.concatenate(values) if values else [], level)


# Direction of a metric, by the last part of its dotted name (or any part: `psi.Age`), with any
# `_low`/`_high` interval suffix removed. Shared by the PR report and experiment ranking.
HIGHER_IS_BETTER = frozenset(
    {"roc_auc", "gini", "ks", "average_precision", "precision", "recall", "f1", "tp", "tn"}
)
LOWER_IS_BETTER = frozenset(
    {
        "brier",
        "log_loss",
        "cost",
        "bayes_cost",
        "ece",
        "hl_statistic",
        "fp",
        "fn",
        "cost_optimal_cost",
        "features_drift",
        "features_warning",
        "drifted_share",
        "score_psi",
        "psi",
    }
)


def direction(name: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neutral (rows, threshold...)."""
    parts = [re.sub(r"_(low|high)$", "", part) for part in name.split(":")[-1].split(".")]
    for part in [parts[-1], *parts[:-1]]:
        if part in HIGHER_IS_BETTER:
            return 1
        if part in LOWER_IS_BETTER:
            return -1
    return 0


def flatten(values, prefix: str = "") -> dict:
    """Nested dicts -> {"a.b.c": value}, in insertion order (a non-dict is {prefix: value})."""
    if not isinstance(values, dict):
        return {prefix: values}
    out = {}
    for key, value in values.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def ks_statistic(y_true: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the score distributions of the two classes."""
    y_true = np.asarray(y_true).astype(bool)
    score = np.asarray(score)
    return float(ks_2samp(score[y_true], score[~y_true]).statistic)


def expected_cost(
    y_true: np.ndarray, score: np.ndarray, threshold: float, cost_fn: float, cost_fp: float
) -> float:
    """Average cost per application when refusing every score >= threshold."""
    y_true = np.asarray(y_true).astype(bool)
    refuse = np.asarray(score) >= threshold
    false_neg = np.sum(y_true & ~refuse)
    false_pos = np.sum(~y_true & refuse)
    return float((cost_fn * false_neg + cost_fp * false_pos) / len(y_true))


def cost_optimal_threshold(
    y_true: np.ndarray, score: np.ndarray, cost_fn: float, cost_fp: float
) -> tuple[float, float]:
    """Threshold minimising the average cost on these rows, and that cost.

    Candidates are the observed scores (plus 1.0+, refuse nobody); ties go to the higher
    threshold, which refuses fewer clients.
    """
    y_true = np.asarray(y_true).astype(bool)
    score = np.asarray(score, dtype="float64")
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    sorted_y = y_true[order]
    # Refusing the top k rows: false positives = negatives among them, false negatives = the rest.
    fp = np.concatenate([[0], np.cumsum(~sorted_y)])
    fn = y_true.sum() - np.concatenate([[0], np.cumsum(sorted_y)])
    costs = (cost_fn * fn + cost_fp * fp) / len(y_true)
    # Only cut between distinct scores.
    distinct = np.concatenate([[True], sorted_score[1:] != sorted_score[:-1], [True]])
    candidates = np.flatnonzero(distinct)
    best = candidates[np.argmin(costs[candidates])]
    threshold = 1.0 + 1e-9 if best == 0 else float(sorted_score[best - 1])
    return threshold, float(costs[best])


def at_threshold(y_true: np.ndarray, score: np.ndarray, threshold: float) -> dict:
    """Precision, recall, F1 and confusion counts when refusing scores >= threshold."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = (np.asarray(score) >= threshold).astype(int)
    sk = _sk()
    tn, fp, fn, tp = sk.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    return {
        "precision": float(sk.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(sk.recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(sk.f1_score(y_true, y_pred, zero_division=0)),
        "tp": int(tp),
        "fp": int(fp),
        "tn": int(tn),
        "fn": int(fn),
    }


def score_metrics(y_true: np.ndarray, score: np.ndarray, n_resamples: int, seed: int) -> dict:
    """Threshold-free metrics: AUC with its bootstrap interval, Gini, KS, AP, Brier, log loss."""
    y_true = np.asarray(y_true).astype(int)
    score = np.clip(np.asarray(score, dtype="float64"), 0.0, 1.0)
    auc = roc_auc(y_true, score)
    low, high = bootstrap_auc(y_true, score, n_resamples, seed)
    sk = _sk()
    return {
        "rows": int(len(y_true)),
        "positive_rate": float(y_true.mean()),
        "roc_auc": auc,
        "roc_auc_low": low,
        "roc_auc_high": high,
        "gini": 2 * auc - 1,
        "ks": ks_statistic(y_true, score),
        "average_precision": float(sk.average_precision_score(y_true, score)),
        "brier": float(sk.brier_score_loss(y_true, score)),
        "log_loss": float(sk.log_loss(y_true, score, labels=[0, 1])),
    }


def score_histogram(y_true: np.ndarray, score: np.ndarray, bins: int = 20) -> list[dict]:
    """Share of each class per score bin on [0, 1] (rows for a line plot)."""
    y_true = np.asarray(y_true).astype(bool)
    edges = np.linspace(0, 1, bins + 1)
    pos, _ = np.histogram(score[y_true], edges)
    neg, _ = np.histogram(score[~y_true], edges)
    pos_share = pos / max(pos.sum(), 1)
    neg_share = neg / max(neg.sum(), 1)
    return [
        {
            "score": round(float((edges[i] + edges[i + 1]) / 2), 4),
            "positive": round(float(pos_share[i]), 6),
            "negative": round(float(neg_share[i]), 6),
        }
        for i in range(bins)
    ]


def rounded(values: dict, digits: int = 6) -> dict:
    """Round floats (recursively) so metrics files diff cleanly; NaN becomes None."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = rounded(value, digits)
        elif isinstance(value, float):
            out[key] = None if np.isnan(value) else round(value, digits)
        else:
            out[key] = value
    return out


HEADLINE = ("roc_auc", "gini", "ks", "average_precision", "brier", "recall", "precision", "cost")
CALIBRATION_HEADLINE = ("hl_pvalue", "slope", "ece")


def _number(value, digits: int = 4, width: int = 0) -> str:
    """A number to `digits` decimals, or n/a for a missing one (e.g. no bootstrap resample)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:>{width}.{digits}f}"
    return f"{'n/a':>{width}}"


def headline(summary: dict) -> str:
    """A small text table of the key metrics per part, for the end of `make repro`."""
    parts = [name for name in ("cv", "test", "current") if isinstance(summary.get(name), dict)]
    lines = [f"{'metric':<24}" + "".join(f"{name:>12}" for name in parts)]
    for key in HEADLINE:
        cells = "".join(_number(summary[name].get(key), width=12) for name in parts)
        lines.append(f"{key:<24}{cells}")
    for key in CALIBRATION_HEADLINE:
        cells = "".join(
            _number((summary[name].get("calibration") or {}).get(key), width=12) for name in parts
        )
        lines.append(f"{'calibration.' + key:<24}{cells}")
    if "cv" in parts:
        cv = summary["cv"]
        lines.append(
            f"cv: ROC AUC {_number(cv.get('roc_auc'), 3)} ± {_number(cv.get('roc_auc_se'), 3)} "
            f"(mean ± SE over {cv.get('folds')} folds of the train split)"
        )
    for name in (part for part in parts if part != "cv"):
        part = summary[name]
        lines.append(
            f"{name}: ROC AUC {_number(part.get('roc_auc'), 3)} [95 % CI "
            f"{_number(part.get('roc_auc_low'), 3)}-{_number(part.get('roc_auc_high'), 3)}], "
            f"{part.get('rows')} rows"
        )
    lines.append(
        f"decision threshold: {_number(summary.get('threshold'))} (refuse scores at or above); "
        f"Bayes threshold {_number(summary.get('bayes_threshold'))}"
    )
    if "current_skipped" in summary:
        lines.append(summary["current_skipped"])
    return "\n".join(lines)


def part_metrics(
    y_true: np.ndarray,
    score: np.ndarray,
    threshold: float,
    config: EvaluateConfig,
    source: str = "a part",
) -> dict:
    """All metrics of one part at the decision threshold, and its cost at the Bayes threshold."""
    # Checked first: AUC, its bootstrap and KS are undefined with a single class.
    if len(np.unique(y_true)) < 2:
        raise KaizenError(f"evaluate: {source} has a single class; metrics need both")
    out = score_metrics(y_true, score, config.bootstrap, config.seed)
    out.update(at_threshold(y_true, score, threshold))
    out["cost"] = expected_cost(y_true, score, threshold, config.cost_fn, config.cost_fp)
    out["bayes_cost"] = expected_cost(
        y_true, score, bayes_threshold(config), config.cost_fn, config.cost_fp
    )
    return out


def bayes_threshold(config: EvaluateConfig) -> float:
    """cost_fp / (cost_fp + cost_fn): the cost-optimal threshold when scores are calibrated
    probabilities (refuse when p * cost_fn >= (1 - p) * cost_fp); nothing is fitted."""
    return config.cost_fp / (config.cost_fp + config.cost_fn)


def decision_threshold(y_true: np.ndarray, score: np.ndarray, config: EvaluateConfig) -> dict:
    """The cost-optimal threshold on these rows (out-of-fold scores of the train split: never
    the rows reported), the Bayes threshold, and the decision threshold params ask for."""
    optimal, _ = cost_optimal_threshold(y_true, score, config.cost_fn, config.cost_fp)
    bayes = bayes_threshold(config)
    chosen = {"cost": optimal, "bayes": bayes}.get(str(config.threshold), config.threshold)
    return {
        "threshold": float(chosen),
        "cost_optimal_threshold": optimal,
        "bayes_threshold": bayes,
    }


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error (sample SD / sqrt(k)) of per-fold values."""
    values = np.asarray(values, dtype="float64")
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def fold_threshold(y_true, score, config: EvaluateConfig) -> float:
    """The decision threshold params ask for, tuned (for "cost") on these rows only."""
    return decision_threshold(y_true, score, config)["threshold"]


def cv_metrics(y_true, score, fold, config: EvaluateConfig) -> dict:
    """Mean and standard error over folds of out-of-fold metrics of the train split.

    Each fold's cost uses the threshold tuned on the other folds' out-of-fold scores, so the
    cost estimate is not the in-sample minimum of the rows it is measured on.
    """
    y_true, score, fold = np.asarray(y_true).astype(int), np.asarray(score), np.asarray(fold)
    per_fold: dict[str, list[float]] = {}
    sk = _sk()
    for k in np.unique(fold):
        held, rest = fold == k, fold != k
        y, s = y_true[held], np.clip(score[held], 0.0, 1.0)
        threshold = fold_threshold(y_true[rest], score[rest], config)
        fold_values = {
            "roc_auc": roc_auc(y, s),
            "average_precision": float(sk.average_precision_score(y, s)),
            "ks": ks_statistic(y, s),
            "brier": float(sk.brier_score_loss(y, s)),
            "log_loss": float(sk.log_loss(y, s, labels=[0, 1])),
            "cost": expected_cost(y, s, threshold, config.cost_fn, config.cost_fp),
            "bayes_cost": expected_cost(
                y, s, bayes_threshold(config), config.cost_fn, config.cost_fp
            ),
        }
        for key, value in fold_values.items():
            per_fold.setdefault(key, []).append(value)
    out: dict[str, Any] = {"folds": len(np.unique(fold)), "rows": int(len(y_true))}
    for key, values in per_fold.items():
        out[key], out[f"{key}_se"] = mean_se(values)
    return out


def evenly(count: int, cap: int) -> np.ndarray:
    """At most `cap` evenly spaced positions in range(count), first and last included."""
    if count <= cap:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, cap).round().astype(int))


PLOT_DIGITS = 6  # significant digits of plot data: last-bit float noise across CPUs stays out


def clean_plot(value: Any, max_points: int | None = None) -> Any:
    """Plot data fit for git: non-finite numbers (dvclive's ROC threshold of Infinity) -> null,
    floats to 6 significant digits, lists longer than `max_points` thinned evenly."""
    if isinstance(value, float):
        return float(f"{value:.{PLOT_DIGITS}g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean_plot(v, max_points) for k, v in value.items()}
    if isinstance(value, list):
        keep = evenly(len(value), max_points) if max_points else range(len(value))
        return [clean_plot(value[i], max_points) for i in keep]
    return value


def delong_se(y_true, score) -> float:
    """DeLong standard error of the ROC AUC (placement values), NaN with one class."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype="float64")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos < 2 or n_neg < 2:
        return float("nan")
    ranks = rankdata(s)
    positive_placement = (ranks[y] - rankdata(s[y])) / n_neg  # share of negatives below
    negative_placement = 1 - (ranks[~y] - rankdata(s[~y])) / n_pos
    variance = positive_placement.var(ddof=1) / n_pos + negative_placement.var(ddof=1) / n_neg
    return float(math.sqrt(variance))
