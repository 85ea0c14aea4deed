"""Metrics checked against scikit-learn, scipy or brute force."""

import json
import math

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from kaizen import KaizenError
from kaizen.pipeline import metrics as M
from kaizen.config import EvaluateConfig
from tests.unit.helpers import log_every_step

Y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
SCORE = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9, 0.55, 0.6])


def random_case(seed: int, rows: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores rounded to 1 decimal (many ties)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    score = np.round(np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1), 1)
    return y, score


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_sklearn_with_ties(seed):
    """The rank formula equals sklearn's trapezoid AUC, ties included."""
    y, score = random_case(seed)
    assert M.roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_roc_auc_small_cases():
    """Perfect, reversed, all-tied and one-class inputs."""
    assert M.roc_auc([0, 0, 1], [0.1, 0.2, 0.9]) == 1.0
    assert M.roc_auc([1, 0], [0.1, 0.9]) == 0.0
    assert M.roc_auc([1, 0, 1, 0], [0.5] * 4) == 0.5
    assert M.roc_auc(Y, SCORE) == pytest.approx(roc_auc_score(Y, SCORE))
    assert math.isnan(M.roc_auc([1, 1], [0.2, 0.3]))
    assert math.isnan(M.roc_auc([0, 0], [0.2, 0.3]))


def test_bootstrap_auc_interval():
    """The interval is ordered, brackets the AUC, and is reproducible from the seed."""
    y, score = random_case(0, 200)
    low, high = M.bootstrap_auc(y, score, 200, seed=1)
    auc = M.roc_auc(y, score)
    assert 0 <= low < auc < high <= 1
    assert M.bootstrap_auc(y, score, 200, seed=1) == (low, high)
    assert M.bootstrap_auc(y, score, 200, seed=2) != (low, high)


@pytest.mark.parametrize("seed", range(3))
def test_bootstrap_auc_equals_rank_formula_on_each_resample(seed):
    """The weighted O(n) resample AUC gives the interval of `roc_auc` on the drawn rows."""
    y, score = random_case(seed, 80)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(100)]
    values = np.array([M.roc_auc(y[idx], score[idx]) for idx in draws])
    values = values[~np.isnan(values)]
    expected = (np.quantile(values, 0.025), np.quantile(values, 0.975))
    assert M.bootstrap_auc(y, score, 100, seed) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_auc_shows_progress_by_batch(monkeypatch, caplog):
    """Each batch of resamples is a progress step; the interval is the same as without."""
    y, score = random_case(0, 200)
    expected = M.bootstrap_auc(y, score, 50, seed=1)
    monkeypatch.setattr(M, "BATCH_CELLS", 200 * 20)  # batches of 20, 20 and 10 resamples
    log_every_step(monkeypatch, caplog)
    assert M.bootstrap_auc(y, score, 50, seed=1) == expected
    assert caplog.messages == [
        f"ROC AUC bootstrap resamples (batches): {done}/3 ({100 * done // 3} %)"
        for done in (1, 2, 3)
    ]


def naive_bootstrap(y, score, n_resamples, seed) -> np.ndarray:
    """The textbook loop: resample rows, recompute the AUC (NaN draws dropped)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(y), len(y))
        values.append(M.roc_auc(y[idx], score[idx]))
    values = np.asarray(values)
    return values[~np.isnan(values)]


@pytest.mark.parametrize(("seed", "rows"), [(0, 50), (3, 8), (4, 120)])
def test_bootstrap_auc_equals_naive_resampling(seed, rows):
    """Same draws, same percentile interval as resampling rows one by one (ties included)."""
    y, score = random_case(seed, rows)
    values = naive_bootstrap(y, score, 100, seed)
    for level in (0.95, 0.5):
        alpha = (1 - level) / 2
        expected = (np.quantile(values, alpha), np.quantile(values, 1 - alpha))
        got = M.bootstrap_auc(y, score, 100, seed, level=level)
        assert got == pytest.approx(expected, abs=1e-12)


def test_bootstrap_auc_zero_resamples_and_one_class_draws():
    """Zero resamples give NaN; one-class resamples are skipped."""
    assert all(math.isnan(v) for v in M.bootstrap_auc(Y, SCORE, 0, 0))
    low, high = M.bootstrap_auc([0, 1, 0], [0.1, 0.9, 0.2], 100, 0)
    assert low == high == 1.0
    # One positive among 3 rows, 1 resample: the draw may lack it; then the interval is NaN.
    draws = [M.bootstrap_auc([0, 1, 0], [0.1, 0.9, 0.2], 1, seed) for seed in range(20)]
    assert any(math.isnan(low) and math.isnan(high) for low, high in draws)
    assert any(not math.isnan(low) for low, _ in draws)


def test_ks_statistic_matches_scipy():
    """KS between the two class score distributions."""
    expected = ks_2samp(SCORE[Y == 1], SCORE[Y == 0]).statistic
    assert M.ks_statistic(Y, SCORE) == pytest.approx(expected)
    assert M.ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_expected_cost_by_hand():
    """Refusing scores >= 0.5: FN = {0.35, 0.4}, FP = {0.6}."""
    assert M.expected_cost(Y, SCORE, 0.5, cost_fn=5, cost_fp=1) == pytest.approx((2 * 5 + 1) / 10)
    # Refusing nobody: every positive is a missed default.
    assert M.expected_cost(Y, SCORE, 1.1, 5, 1) == pytest.approx(5 * 5 / 10)


def brute_force_threshold(y, score, cost_fn, cost_fp) -> tuple[float, float]:
    """Lowest cost over every observed score and 'refuse nobody'; ties to the higher threshold."""
    candidates = sorted(set(score.tolist()) | {1.0 + 1e-9}, reverse=True)
    costs = [M.expected_cost(y, score, t, cost_fn, cost_fp) for t in candidates]
    best = int(np.argmin(costs))  # first minimum = highest threshold
    return candidates[best], costs[best]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("cost_fn", "cost_fp"), [(5.0, 1.0), (1.0, 1.0), (1.0, 10.0)])
def test_cost_optimal_threshold_matches_brute_force(seed, cost_fn, cost_fp):
    """The sorted-cumsum search equals an exhaustive search, ties included."""
    y, score = random_case(seed, 30)
    threshold, cost = M.cost_optimal_threshold(y, score, cost_fn, cost_fp)
    expected_threshold, expected_cost = brute_force_threshold(y, score, cost_fn, cost_fp)
    assert cost == pytest.approx(expected_cost)
    assert threshold == pytest.approx(expected_threshold)
    assert M.expected_cost(y, score, threshold, cost_fn, cost_fp) == pytest.approx(cost)


def test_cost_optimal_threshold_refuse_nobody():
    """When refusing is always costlier, the threshold is above every score."""
    threshold, cost = M.cost_optimal_threshold([0, 0, 1], [0.9, 0.8, 0.1], 1.0, 10.0)
    assert threshold > 1.0
    assert cost == pytest.approx(1 / 3)


def test_at_threshold_counts_and_rates():
    """Confusion counts by hand; precision/recall/F1 from them."""
    out = M.at_threshold(Y, SCORE, 0.5)
    assert (out["tp"], out["fp"], out["tn"], out["fn"]) == (3, 1, 4, 2)
    assert out["precision"] == pytest.approx(3 / 4)
    assert out["recall"] == pytest.approx(3 / 5)
    assert out["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    nobody = M.at_threshold(Y, SCORE, 1.5)
    assert nobody["precision"] == 0.0 and nobody["tp"] == 0 and nobody["fn"] == 5


def test_score_metrics():
    """Each value agrees with its reference implementation; scores are clipped to [0, 1]."""
    out = M.score_metrics(Y, SCORE, 50, 0)
    assert out["rows"] == 10 and out["positive_rate"] == 0.5
    assert out["roc_auc"] == pytest.approx(roc_auc_score(Y, SCORE))
    assert out["gini"] == pytest.approx(2 * out["roc_auc"] - 1)
    assert out["roc_auc_low"] <= out["roc_auc"] <= out["roc_auc_high"]
    assert out["brier"] == pytest.approx(brier_score_loss(Y, SCORE))
    assert out["log_loss"] == pytest.approx(log_loss(Y, SCORE))
    assert 0 < out["average_precision"] <= 1
    clipped = M.score_metrics(Y, SCORE * 2 - 0.5, 0, 0)
    assert clipped["brier"] == pytest.approx(brier_score_loss(Y, np.clip(SCORE * 2 - 0.5, 0, 1)))
    assert math.isnan(clipped["roc_auc_low"])


def test_score_histogram():
    """Shares per bin sum to one per class and land in the right bins."""
    rows = M.score_histogram(np.array([1, 1, 0, 0]), np.array([0.05, 0.95, 0.05, 0.45]), bins=4)
    assert [row["score"] for row in rows] == [0.125, 0.375, 0.625, 0.875]
    assert [row["positive"] for row in rows] == [0.5, 0.0, 0.0, 0.5]
    assert [row["negative"] for row in rows] == [0.5, 0.5, 0.0, 0.0]
    empty = M.score_histogram(np.array([0, 0]), np.array([0.1, 0.2]), bins=2)
    assert [row["positive"] for row in empty] == [0.0, 0.0]


def test_rounded():
    """Floats rounded recursively, NaN -> None, other values untouched."""
    raw = {"a": 0.123456789, "b": {"c": float("nan"), "d": 2.0000001}, "e": 3, "f": "x"}
    assert M.rounded(raw, 3) == {"a": 0.123, "b": {"c": None, "d": 2.0}, "e": 3, "f": "x"}


def test_headline():
    """One row per headline metric and calibration metric, a CI line per part, thresholds."""
    part = {key: 0.5 for key in M.HEADLINE}
    part.update({"roc_auc": 0.75, "roc_auc_low": 0.7, "roc_auc_high": 0.8, "rows": 12})
    part["calibration"] = {"hl_pvalue": 0.01, "slope": 0.9, "ece": 0.02}
    cv = {"roc_auc": 0.76, "roc_auc_se": 0.01, "folds": 5, "cost": 0.4}
    summary = {"threshold": 0.25, "bayes_threshold": 1 / 6, "cv": cv, "test": part}
    lines = M.headline({**summary, "current": part}).splitlines()
    assert lines[0].split() == ["metric", "cv", "test", "current"]
    assert lines[1].split() == ["roc_auc", "0.7600", "0.7500", "0.7500"]
    assert "calibration.hl_pvalue n/a 0.0100 0.0100".split() in [line.split() for line in lines]
    assert "cv: ROC AUC 0.760 ± 0.010 (mean ± SE over 5 folds of the train split)" in lines
    assert "test: ROC AUC 0.750 [95 % CI 0.700-0.800], 12 rows" in lines
    assert lines[-1] == (
        "decision threshold: 0.2500 (refuse scores at or above); Bayes threshold 0.1667"
    )
    only_test = M.headline({"threshold": 0.25, "test": part}).splitlines()
    assert only_test[0].split() == ["metric", "test"]
    assert len(only_test) == len(M.HEADLINE) + len(M.CALIBRATION_HEADLINE) + 3


def test_headline_without_bootstrap():
    """evaluate.bootstrap: 0 leaves the interval empty (null): n/a, not a TypeError."""
    part = {key: 0.5 for key in M.HEADLINE}
    part.update({"roc_auc": 0.75, "roc_auc_low": None, "roc_auc_high": None, "rows": 12})
    text = M.headline({"threshold": 0.25, "test": part})
    assert "test: ROC AUC 0.750 [95 % CI n/a-n/a], 12 rows" in text.splitlines()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("current.roc_auc", 1),
        ("test.gini", 1),
        ("current.tp", 1),
        ("test.tn", 1),
        ("test.average_precision", 1),
        ("current.brier", -1),
        ("test.log_loss", -1),
        ("current.cost", -1),
        ("current.fp", -1),
        ("test.fn", -1),
        ("psi.Expenses", -1),
        ("score_psi", -1),
        ("current.rows", 0),
        ("threshold", 0),
        ("test.roc_auc_low", 1),
        ("metrics/evaluate/metrics.json:current.brier", -1),
        ("test.positive_rate", 0),
        ("cv.roc_auc", 1),
        ("cv.roc_auc_se", 0),
        ("current.bayes_cost", -1),
        ("current.calibration.ece", -1),
        ("current.calibration.hl_statistic", -1),
        ("current.calibration.slope", 0),
        ("current.calibration.hl_pvalue", 0),
    ],
)
def test_direction(name, expected):
    """Higher is better for discrimination, lower for losses and errors, neutral for counts."""
    assert M.direction(name) == expected


def test_flatten_nested_and_scalar():
    """Nested dicts become dotted names in order; a scalar keeps its prefix."""
    assert M.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}
    assert M.flatten(5, "x") == {"x": 5}


def test_batches_bound_memory_and_sum_to_total():
    """Batches hold at most BATCH_CELLS counts and cover every resample."""
    sizes = M.batches(1_000_000, 1000)
    assert sum(sizes) == 1000 and max(sizes) * 1_000_000 <= M.BATCH_CELLS
    assert M.batches(100, 1000) == [1000]
    assert not M.batches(100, 0)


def test_resampled_auc_matches_roc_auc_on_each_resample():
    """The vectorised bootstrap AUC equals roc_auc on the explicit resample (ties included)."""
    rng = np.random.default_rng(0)
    y = rng.random(120) < 0.3
    score = np.round(rng.random(120) * 0.6 + y * 0.3, 1)
    idx = rng.integers(0, len(y), (4, len(y)))
    counts = np.stack([np.bincount(row, minlength=len(y)) for row in idx])
    expected = [M.roc_auc(y[row], score[row]) for row in idx]
    assert np.allclose(M.ResampledAuc(y, score)(counts), expected)
    assert np.isnan(M.ResampledAuc([1, 1, 1], [0.1, 0.2, 0.3])(np.ones((1, 3), int))[0])


def test_resample_counts_sum_to_rows():
    """Each resample draws as many rows as there are."""
    counts = M.resample_counts(np.random.default_rng(0), 50, 7)
    assert counts.shape == (7, 50) and (counts.sum(axis=1) == 50).all()


CONFIG = EvaluateConfig(bootstrap=10, permutation_repeats=1)


def test_part_metrics():
    """Threshold-free metrics plus counts and cost at the threshold."""
    y = np.array([0, 1, 0, 1])
    score = np.array([0.2, 0.7, 0.6, 0.9])
    out = M.part_metrics(y, score, 0.65, CONFIG)
    assert out["roc_auc"] == 1.0 and out["tp"] == 2 and out["fp"] == 0 and out["cost"] == 0.0
    out = M.part_metrics(y, score, 0.5, CONFIG)
    assert out["fp"] == 1 and out["cost"] == pytest.approx(1 / 4)
    with pytest.raises(KaizenError, match="^evaluate: a part has a single class"):
        M.part_metrics(np.ones(3), np.ones(3) / 2, 0.5, CONFIG)
    with pytest.raises(KaizenError, match="^evaluate: t.parquet has a single class"):
        M.part_metrics(np.zeros(3), np.ones(3) / 2, 0.5, CONFIG, "t.parquet")


def test_decision_threshold():
    """'cost' uses the cost-optimal threshold; 'bayes' cost_fp / (cost_fp + cost_fn); a number is
    used as is; the optimum and the Bayes threshold are always reported."""
    y = np.array([0, 0, 1, 1, 0])
    score = np.array([0.1, 0.3, 0.35, 0.8, 0.6])
    optimal, _ = M.cost_optimal_threshold(y, score, 5.0, 1.0)
    assert M.decision_threshold(y, score, CONFIG) == {
        "threshold": optimal,
        "cost_optimal_threshold": optimal,
        "bayes_threshold": pytest.approx(1 / 6),
    }
    fixed = M.decision_threshold(y, score, EvaluateConfig(threshold=0.7))
    assert fixed["threshold"] == 0.7 and fixed["cost_optimal_threshold"] == optimal
    bayes = M.decision_threshold(y, score, EvaluateConfig(threshold="bayes", cost_fn=3.0))
    assert bayes["threshold"] == bayes["bayes_threshold"] == 0.25


def test_part_metrics_bayes_cost():
    """bayes_cost is the cost of refusing every score >= cost_fp / (cost_fp + cost_fn)."""
    y = np.array([0, 1, 0, 1, 0, 0])
    score = np.array([0.1, 0.15, 0.2, 0.9, 0.5, 0.05])
    out = M.part_metrics(y, score, 0.6, CONFIG)  # Bayes threshold 1/6: refuse 0.2, 0.9, 0.5
    assert out["bayes_cost"] == pytest.approx((5.0 * 1 + 1.0 * 2) / 6)
    assert out["cost"] == pytest.approx(5.0 * 1 / 6)


def test_mean_se():
    """Mean and sample SD / sqrt(k); one value has no SE."""
    mean, se = M.mean_se([0.8, 0.82, 0.84])
    assert mean == pytest.approx(0.82) and se == pytest.approx(0.02 / np.sqrt(3))
    assert np.isnan(M.mean_se([0.8])[1])


def test_cv_metrics_tune_each_fold_threshold_on_the_other_folds():
    """Per-fold metrics averaged; each fold's cost uses the threshold tuned on the other folds,
    so it is at least the in-sample minimum of that fold."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    score = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1.5, 300))))
    fold = np.arange(300) % 3
    out = M.cv_metrics(y, score, fold, CONFIG)
    assert out["folds"] == 3 and out["rows"] == 300
    aucs = [M.roc_auc(y[fold == k], score[fold == k]) for k in range(3)]
    assert out["roc_auc"] == pytest.approx(np.mean(aucs))
    assert out["roc_auc_se"] == pytest.approx(np.std(aucs, ddof=1) / np.sqrt(3))
    costs = []
    for k in range(3):
        other = fold != k
        threshold, _ = M.cost_optimal_threshold(y[other], score[other], 5.0, 1.0)
        held = fold == k
        costs.append(M.expected_cost(y[held], score[held], threshold, 5.0, 1.0))
        assert costs[-1] >= M.cost_optimal_threshold(y[held], score[held], 5.0, 1.0)[1]
    assert out["cost"] == pytest.approx(np.mean(costs))
    assert {"brier_se", "log_loss", "average_precision", "ks", "bayes_cost"} <= set(out)


def test_clean_plot_nulls_non_finite_numbers():
    """Infinity and NaN anywhere in the JSON become null; other values are kept."""
    raw = '{"roc": [{"fpr": 0.0, "threshold": Infinity}, {"x": [NaN, 1]}], "n": "a"}'
    content = M.clean_plot(json.loads(raw))
    assert content == {"roc": [{"fpr": 0.0, "threshold": None}, {"x": [None, 1]}], "n": "a"}


def test_plot_floats_keep_six_significant_digits():
    """Last-bit float noise (another CPU) does not reach the plot files kept in git."""
    noisy = {"roc": [{"fpr": 0.12345678901, "tpr": 0.9999999999999998, "n": 3}]}
    twin = {"roc": [{"fpr": 0.12345678901000002, "tpr": 0.9999999999999999, "n": 3}]}
    assert (
        M.clean_plot(noisy)
        == M.clean_plot(twin)
        == {"roc": [{"fpr": 0.123457, "tpr": 1.0, "n": 3}]}
    )


def test_evenly():
    """All positions up to the cap; beyond it, evenly spaced with both ends kept."""
    assert M.evenly(4, 10).tolist() == [0, 1, 2, 3]
    kept = M.evenly(101, 5)
    assert kept.tolist() == [0, 25, 50, 75, 100]
    kept = M.evenly(1000, 7)
    assert kept[0] == 0 and kept[-1] == 999 and len(kept) == 7
    assert (np.diff(kept) > 0).all()


def test_clean_plot_thins_long_lists():
    """With max_points, long point lists keep evenly spaced points (ends included)."""
    points = [
        {"fpr": i / 10, "threshold": float("inf") if i == 0 else 1 - i / 10} for i in range(11)
    ]
    kept = M.clean_plot({"roc": points}, max_points=3)["roc"]
    assert [p["fpr"] for p in kept] == [0.0, 0.5, 1.0]
    assert kept[0]["threshold"] is None
