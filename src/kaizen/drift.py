"""Data and score drift between a reference sample and a current sample (pure functions).

Each feature is judged on three separate questions, each with its own effect size, its own
thresholds and its own significance test:
- distribution: PSI on the reference's bins (numeric: a value holding >= 10 % of the reference
  gets its own bin, deciles of the rest; categorical: one bin per reference level), on the
  non-missing, known values only, with add-1/2 smoothed shares (no epsilon floor decides a
  verdict). The test is the one `numeric_method` / `categorical_method` names: Pearson
  chi-squared on the same bins for psi/chi2/jensenshannon (cells with an expected count under 5
  merged), two-sample KS for ks/wasserstein. With wasserstein/jensenshannon the distance is the
  effect size instead of PSI.
- missing: the change of the missing share (Fisher's exact test), against missing_warning/alert;
- unseen: the share of current values in levels the reference never had (binomial test against
  the rule-of-three bound 3/n of a level absent from n reference values), against
  unseen_warning/alert.
A component is flagged only when its test is significant after a Holm (or Benjamini-Hochberg)
adjustment across every test of every feature and its effect reaches the warning threshold
(drift at the alert threshold): a p-value alone flags negligible shifts in large samples, an
effect alone flags sampling noise in small ones, and 13 unadjusted tests flag about half of
undrifted windows somewhere. `min_rows` counts non-missing values: with fewer on either side the
distribution verdict is "insufficient data" (a missing-share or unseen flag still shows).
Only what the chosen methods need is computed (KS and distances are None otherwise).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance as scipy_distance

from kaizen.config import DriftConfig
from kaizen.markdown import VERDICT_ICONS

SPIKE_SHARE = 0.10  # a value holding this share of the reference gets its own bin
SMOOTHING = 0.5  # added to every occupied bin's count on both sides (add-1/2, Jeffreys)
MIN_EXPECTED = 5.0  # chi-squared cells with a smaller expected count are merged
DECILES = np.linspace(0.1, 0.9, 9)
KS_EXACT_ROWS = 10_000  # scipy's ks_2samp is exact up to this many rows a side
STD_FLOOR = 0.001  # normed Wasserstein of a constant reference column (as Evidently does)
DRIFT, WARNING, STABLE, INSUFFICIENT = "drift", "warning", "stable", "insufficient data"
SEVERITY = {DRIFT: 0, WARNING: 1, INSUFFICIENT: 2, STABLE: 3}
COMPONENTS = ("distribution", "missing", "unseen")
DIGITS = 6
DISTANCE_NAMES = {"wasserstein_normed": "W₁/σ", "jensenshannon": "JS"}
ADJUSTMENTS = {
    "holm": "Holm-adjusted across all tests",
    "bh": "Benjamini-Hochberg-adjusted across all tests",
    "none": "not adjusted",
}


@dataclass(frozen=True)
class FeatureDrift:  # pylint: disable=too-many-instance-attributes
    """Drift statistics and verdict of one feature (the `features.json` record).

    `components` holds, per question (distribution, missing, unseen), the effect, the raw and
    the adjusted p-value and the component's verdict; `flags` lists the flagged components.
    """

    feature: str
    kind: str
    psi: float | None
    test: str
    p_value: float | None
    distance: float | None
    distance_name: str
    missing_reference: float | None
    missing_current: float | None
    missing_change: float | None
    unseen: list[str] = field(default_factory=list)
    unseen_share: float | None = None
    n_reference: int = 0
    n_current: int = 0
    components: dict[str, dict] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    verdict: str = STABLE
    method: str = "psi"

    def to_dict(self) -> dict:
        """JSON-ready record, floats rounded."""
        return _round(asdict(self))


@dataclass(frozen=True)
class DriftReport:  # pylint: disable=too-many-instance-attributes
    """Everything the drift stage writes: dataset facts, features by severity, score drift."""

    verdict: str
    rows_reference: int
    rows_current: int
    features: list[FeatureDrift]
    score_psi: float | None
    score_verdict: str
    target_rate_reference: float | None
    target_rate_current: float | None
    config: DriftConfig
    score_p_value: float | None = None

    def metrics(self) -> dict:
        """The `metrics.json` content."""
        counts = {verdict: 0 for verdict in SEVERITY}
        for item in self.features:
            counts[item.verdict] += 1
        total = len(self.features)
        return {
            "verdict": self.verdict,
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "features_total": total,
            "features_drift": counts[DRIFT],
            "features_warning": counts[WARNING],
            "drifted_share": _round(counts[DRIFT] / total if total else 0.0),
            "score_psi": _round(self.score_psi),
            "score_verdict": self.score_verdict,
            "target_rate_reference": _round(self.target_rate_reference),
            "target_rate_current": _round(self.target_rate_current),
            "psi": {item.feature: _round(item.psi) for item in self.features},
        }


def _round(value):
    """Round floats to DIGITS (recursively); NaN and infinities become None (strict JSON)."""
    if isinstance(value, dict):
        return {key: _round(item) for key, item in value.items()}
    if isinstance(value, (float, np.floating)):
        return round(float(value), DIGITS) if math.isfinite(value) else None
    return value


# --- bins and counts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Distinct:
    """A numeric sample as its sorted distinct values and their counts: one sort, then bins,
    KS and Wasserstein work on the (often far fewer) distinct values: ages, terms, amounts."""

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, sample) -> "Distinct":
        """Distinct non-missing values of `sample`, sorted, with their counts."""
        values = np.sort(np.asarray(sample, dtype="float64"))
        values = values[~np.isnan(values)]
        if not values.size:
            return cls(values, np.empty(0, dtype="int64"))
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        return cls(values[starts], np.diff(np.r_[starts, values.size]))

    @property
    def size(self) -> int:
        """Number of values (not distinct ones)."""
        return int(self.counts.sum())

    def quantiles(self, levels) -> np.ndarray:
        """np.quantile's default (linear) quantiles, from the distinct values."""
        cumulative = np.cumsum(self.counts)
        position = np.asarray(levels) * (self.size - 1)
        below = np.floor(position)

        def value_at(index):  # the index-th smallest value (0-based)
            return self.values[np.searchsorted(cumulative, index, side="right")]

        low = value_at(below)
        high = value_at(np.minimum(below + 1, self.size - 1))
        return low + (position - below) * (high - low)

    def std(self) -> float:
        """Population standard deviation."""
        mean = float(np.dot(self.values, self.counts)) / self.size
        return math.sqrt(float(np.dot((self.values - mean) ** 2, self.counts)) / self.size)


@dataclass(frozen=True)
class Bins:
    """Reference bins of a numeric column: one bin per spike value, then deciles of the rest.

    Deciles alone collapse on tied values (Debt: 82 % zeros left 3 bins, so a 2.5x change of
    every non-zero Debt read as stable); a spike in its own bin leaves ten bins to the rest.
    """

    spikes: np.ndarray  # sorted values holding >= SPIKE_SHARE of the reference
    edges: np.ndarray  # decile edges of the other values: bins (-inf, e1], (e1, e2], ... (ek, inf)

    @classmethod
    def fit(cls, reference) -> "Bins":
        """Bins of the non-missing reference values (a sample or its `Distinct` form)."""
        sample = reference if isinstance(reference, Distinct) else Distinct.of(reference)
        if not sample.size:
            return cls(np.empty(0), np.empty(0))
        spike = sample.counts >= SPIKE_SHARE * sample.size
        rest = Distinct(sample.values[~spike], sample.counts[~spike])
        edges = np.unique(rest.quantiles(DECILES)) if rest.size else np.empty(0)
        return cls(sample.values[spike], edges)

    @property
    def size(self) -> int:
        """Number of bins."""
        return self.spikes.size + self.edges.size + 1

    def count(self, values) -> np.ndarray:
        """Counts of the non-missing values per bin (spikes first), then a last missing bin.
        `values`: a sample (NaN = missing) or its `Distinct` form (no missing)."""
        if isinstance(values, Distinct):
            present, weights, missing = values.values, values.counts, 0
        else:
            values = np.asarray(values, dtype="float64")
            nan = np.isnan(values)
            present, weights, missing = values[~nan], None, int(nan.sum())
        spike_counts = np.zeros(self.spikes.size, dtype="int64")
        if self.spikes.size:
            where = np.minimum(np.searchsorted(self.spikes, present), self.spikes.size - 1)
            hit = self.spikes[where] == present
            spike_counts = np.bincount(
                where[hit], None if weights is None else weights[hit], self.spikes.size
            )
            present = present[~hit]
            weights = None if weights is None else weights[~hit]
        # side="left": a value equal to an edge falls in the bin that edge closes.
        index = np.searchsorted(self.edges, present, side="left")
        rest = np.bincount(index, weights, minlength=self.edges.size + 1)
        return np.concatenate([spike_counts, rest, [missing]]).astype("int64")


def ks_p_value(reference: Distinct, current: Distinct, raw: tuple) -> float:
    """Two-sample KS p-value as scipy's ks_2samp computes it: exact (scipy) up to 10,000 rows a
    side, else Smirnov's asymptotic law on the statistic taken from the distinct values."""
    n_ref, n_cur = reference.size, current.size
    if max(n_ref, n_cur) <= KS_EXACT_ROWS:
        return float(stats.ks_2samp(*raw).pvalue)
    union = np.union1d(reference.values, current.values)

    def cdf(sample: Distinct) -> np.ndarray:
        cumulative = np.r_[0, np.cumsum(sample.counts)]
        return cumulative[np.searchsorted(sample.values, union, side="right")] / sample.size

    statistic = float(np.max(np.abs(cdf(reference) - cdf(current))))
    larger, smaller = max(n_ref, n_cur), min(n_ref, n_cur)
    return float(
        np.clip(stats.kstwo.sf(statistic, np.round(larger * smaller / (n_ref + n_cur))), 0, 1)
    )


def numeric_counts(reference, current) -> tuple[np.ndarray, np.ndarray]:
    """Counts per reference bin (spike-aware deciles), plus a last missing bin."""
    bins = Bins.fit(reference)
    return bins.count(reference), bins.count(current)


def categorical_counts(reference, current) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Counts per reference level, plus an "unseen levels" bin and a missing bin; unseen names."""
    ref = reference if isinstance(reference, pd.Series) else pd.Series(reference, dtype=object)
    cur = current if isinstance(current, pd.Series) else pd.Series(current, dtype=object)

    def level_counts(values: pd.Series) -> tuple[pd.Series, int]:
        counts = values.value_counts(dropna=False)  # count first, then name the few levels
        missing = counts.index.isna()
        present = counts[~missing & (counts.to_numpy() > 0)]  # a category dtype lists every level
        return present.groupby(present.index.map(str)).sum(), int(counts[missing].sum())

    (ref_levels, ref_missing), (cur_levels, cur_missing) = level_counts(ref), level_counts(cur)
    levels = sorted(ref_levels.index)
    unseen = sorted(set(cur_levels.index) - set(levels))

    def count(found: pd.Series, missing: int) -> np.ndarray:
        known = found.reindex(levels, fill_value=0).to_numpy()
        others = int(found.drop(levels, errors="ignore").sum())
        return np.append(known, [others, missing]).astype("int64")

    return count(ref_levels, ref_missing), count(cur_levels, cur_missing), unseen


# --- statistics ----------------------------------------------------------------------------------


def smoothed_shares(ref_counts, cur_counts) -> tuple[np.ndarray, np.ndarray]:
    """Add-1/2 shares over the bins occupied on either side (empty-on-both bins carry nothing)."""
    ref_counts = np.asarray(ref_counts, dtype="float64")
    cur_counts = np.asarray(cur_counts, dtype="float64")
    used = (ref_counts + cur_counts) > 0
    ref, cur = ref_counts[used] + SMOOTHING, cur_counts[used] + SMOOTHING
    return ref / ref.sum(), cur / cur.sum()


def psi(ref_counts, cur_counts) -> float:
    """Population stability index sum((q - p) ln(q / p)) on add-1/2 smoothed shares."""
    p, q = smoothed_shares(ref_counts, cur_counts)
    return float(np.sum((q - p) * np.log(q / p))) if p.size else 0.0


def merge_sparse(table: np.ndarray) -> np.ndarray:
    """Columns of a 2 x k count table pooled (smallest first) until every expected count >= 5."""
    table = table[:, table.sum(axis=0) > 0]
    totals = table.sum(axis=0)
    rows = table.sum(axis=1)
    if table.shape[1] < 2 or rows.min() == 0:
        return table
    need = MIN_EXPECTED * totals.sum() / rows.min()  # column total giving expected count 5
    order = np.argsort(totals, kind="stable")
    kept = [table[:, j] for j in order if totals[j] >= need]
    pooled, pools = np.zeros(2, dtype=table.dtype), []
    for j in order:
        if totals[j] < need:
            pooled = pooled + table[:, j]
            if pooled.sum() >= need:
                pools.append(pooled)
                pooled = np.zeros(2, dtype=table.dtype)
    columns = pools + kept
    if pooled.sum():  # a remainder too small on its own joins the smallest column
        if columns:
            columns[0] = columns[0] + pooled
        else:
            columns = [pooled]
    return np.column_stack(columns)


def chi2_p_value(ref_counts, cur_counts) -> float:
    """Pearson chi-squared test of homogeneity on the bins, sparse cells merged (1.0 if < 2)."""
    table = merge_sparse(np.vstack([ref_counts, cur_counts]).astype("float64"))
    if table.shape[1] < 2 or table.sum(axis=1).min() == 0:
        return 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return float(stats.chi2.sf(statistic, table.shape[1] - 1))


def missing_p_value(missing: tuple[int, int], rows: tuple[int, int]) -> float | None:
    """Fisher's exact test of equal missing shares; None when no value is missing on any side."""
    if not sum(missing) or min(rows) == 0:
        return None
    table = [[missing[0], rows[0] - missing[0]], [missing[1], rows[1] - missing[1]]]
    return float(stats.fisher_exact(table).pvalue)


def unseen_p_value(unseen: int, n_reference: int, n_current: int) -> float | None:
    """P(at least `unseen` of n_current values fall in levels of share 3 / n_reference).

    3 / n is the 95 % upper bound on the share of a level absent from n reference values (rule
    of three): a rare level that the reference missed by chance stays below it.
    """
    if not unseen or not n_reference or not n_current:
        return None
    bound = min(1.0, 3.0 / n_reference)
    return float(stats.binom.sf(unseen - 1, n_current, bound))


def adjust(p_values, method: str) -> np.ndarray:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted p-values."""
    p = np.asarray(p_values, dtype="float64")
    m = p.size
    if method == "none" or m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def level(effect: float | None, p_value: float | None, thresholds: tuple[float, float], alpha):
    """drift at the alert threshold, warning at the warning threshold, both only if significant."""
    if effect is None or p_value is None or p_value >= alpha:
        return STABLE
    warning, alert = thresholds
    if effect >= alert:
        return DRIFT
    return WARNING if effect >= warning else STABLE


def _share(count: int, total: int) -> float | None:
    """count / total, None for an empty part."""
    return count / total if total else None


def _enough(n_ref: int, n_cur: int, config: DriftConfig) -> bool:
    """Both sides reach drift.min_rows."""
    return min(n_ref, n_cur) >= config.min_rows


# --- per feature ---------------------------------------------------------------------------------


def wasserstein_normed(reference: Distinct, current: Distinct) -> float:
    """Wasserstein-1 distance divided by the reference's standard deviation (floored)."""
    value = stats.wasserstein_distance(
        reference.values, current.values, reference.counts, current.counts
    )
    return float(value) / max(reference.std(), STD_FLOOR)


def measure_numeric(name: str, reference: pd.Series, current: pd.Series, config: DriftConfig):
    """PSI and the chosen test (and distance) of a numeric feature, before any verdict."""
    ref, cur = reference.to_numpy(dtype="float64"), current.to_numpy(dtype="float64")
    ref_ok, cur_ok = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    method = config.numeric_method
    value = p_value = dist = None
    if ref_ok.size and cur_ok.size:
        ref_d = Distinct.of(ref_ok)
        bins = Bins.fit(ref_d)
        # PSI alone needs no sorted current sample; KS and Wasserstein do.
        cur_d = cur_ok if method == "psi" else Distinct.of(cur_ok)
        ref_counts, cur_counts = bins.count(ref_d)[:-1], bins.count(cur_d)[:-1]
        value = psi(ref_counts, cur_counts)
        if isinstance(cur_d, Distinct):
            p_value = ks_p_value(ref_d, cur_d, (ref_ok, cur_ok))
            dist = wasserstein_normed(ref_d, cur_d) if method == "wasserstein" else None
        else:
            p_value = chi2_p_value(ref_counts, cur_counts)
    effect = dist if method == "wasserstein" else value
    facts = _facts(name, "numeric", (ref.size, cur.size), (ref_ok.size, cur_ok.size))
    return FeatureDrift(
        **facts,
        psi=value,
        test="chi2" if method == "psi" else "ks",
        p_value=p_value,
        distance=dist,
        distance_name="wasserstein_normed",
        components={"distribution": {"effect": effect, "p_value": p_value}},
        method=method,
    )


def measure_categorical(name: str, reference: pd.Series, current: pd.Series, config: DriftConfig):
    """PSI, chi-squared (and Jensen-Shannon) and unseen levels of a category, before a verdict."""
    method = config.categorical_method
    value = p_value = dist = share = unseen_p = None
    ref_counts, cur_counts, unseen = categorical_counts(reference, current)
    n_ref, n_cur = int(ref_counts[:-1].sum()), int(cur_counts[:-1].sum())
    known_ref, known_cur = ref_counts[:-2], cur_counts[:-2]
    if known_ref.sum() and known_cur.sum():
        value = psi(known_ref, known_cur)
        p_value = chi2_p_value(known_ref, known_cur)
        if method == "jensenshannon":
            dist = float(
                scipy_distance.jensenshannon(
                    known_ref / known_ref.sum(), known_cur / known_cur.sum(), base=2
                )
            )
    if n_ref and n_cur:
        share = float(cur_counts[-2] / n_cur)
        unseen_p = unseen_p_value(int(cur_counts[-2]), n_ref, n_cur)
    facts = _facts(name, "categorical", (len(reference), len(current)), (n_ref, n_cur))
    effect = dist if method == "jensenshannon" else value
    return FeatureDrift(
        **facts,
        psi=value,
        test="chi2",
        p_value=p_value,
        distance=dist,
        distance_name="jensenshannon",
        unseen=unseen,
        unseen_share=share,
        components={
            "distribution": {"effect": effect, "p_value": p_value},
            "unseen": {"effect": share, "p_value": unseen_p},
        },
        method=method,
    )


def _facts(name: str, kind: str, rows: tuple[int, int], present: tuple[int, int]) -> dict:
    """The FeatureDrift fields every kind shares: names, missing rates, non-missing counts."""
    missing_ref, missing_cur = (_share(n - k, n) for n, k in zip(rows, present))
    change = None if missing_ref is None or missing_cur is None else missing_cur - missing_ref
    return {
        "feature": name,
        "kind": kind,
        "missing_reference": missing_ref,
        "missing_current": missing_cur,
        "missing_change": change,
        "n_reference": int(present[0]),
        "n_current": int(present[1]),
    }


def _with_missing(item: FeatureDrift, rows: tuple[int, int]) -> FeatureDrift:
    """Add the missing-share component (Fisher's exact test on missing counts)."""
    missing = (
        rows[0] - item.n_reference,
        rows[1] - item.n_current,
    )  # unseen values count as present
    change = None if item.missing_change is None else abs(item.missing_change)
    components = dict(item.components)
    components["missing"] = {"effect": change, "p_value": missing_p_value(missing, rows)}
    return replace(item, components=components)


def decide(items: list[FeatureDrift], rows: tuple[int, int], config: DriftConfig) -> list:
    """Verdicts of every feature, p-values adjusted across all their tests (one family)."""
    items = [_with_missing(item, rows) for item in items]
    tests = [
        (i, name, part["p_value"])
        for i, item in enumerate(items)
        for name, part in item.components.items()
        if part["p_value"] is not None
    ]
    adjusted = adjust([p for _, _, p in tests], config.multiple_testing)
    found: dict[tuple[int, str], float] = {
        (i, name): float(value) for (i, name, _), value in zip(tests, adjusted)
    }
    return [
        _decide_one(item, {name: found.get((i, name)) for name in COMPONENTS}, rows, config)
        for i, item in enumerate(items)
    ]


def _decide_one(
    item: FeatureDrift, p_adjusted: dict, rows: tuple[int, int], config: DriftConfig
) -> FeatureDrift:
    """Each component's verdict, then the feature's: its worst flag, else the distribution's."""
    distance = item.method in ("wasserstein", "jensenshannon")
    thresholds = {
        "distribution": (
            (config.distance_threshold,) * 2 if distance else (config.psi_warning, config.psi_alert)
        ),
        "missing": (config.missing_warning, config.missing_alert),
        "unseen": (config.unseen_warning, config.unseen_alert),
    }
    present = _enough(item.n_reference, item.n_current, config)
    enough = {"distribution": present, "missing": _enough(*rows, config), "unseen": present}
    components = {}
    for name in [name for name in COMPONENTS if name in item.components]:
        part = item.components[name]
        verdict = (
            level(part["effect"], p_adjusted[name], thresholds[name], config.alpha)
            if enough[name]
            else INSUFFICIENT
        )
        components[name] = {**part, "p_adjusted": p_adjusted[name], "verdict": verdict}
    flags = [name for name, part in components.items() if part["verdict"] in (DRIFT, WARNING)]
    verdict = components["distribution"]["verdict"]
    if flags:
        verdict = DRIFT if any(components[name]["verdict"] == DRIFT for name in flags) else WARNING
    return replace(item, components=components, flags=flags, verdict=verdict)


def numeric_drift(name: str, reference: pd.Series, current: pd.Series, config: DriftConfig):
    """One numeric feature measured and decided on its own (its tests are the family)."""
    item = measure_numeric(name, reference, current, config)
    return decide([item], (len(reference), len(current)), config)[0]


def categorical_drift(name: str, reference: pd.Series, current: pd.Series, config: DriftConfig):
    """One categorical feature measured and decided on its own (its tests are the family)."""
    item = measure_categorical(name, reference, current, config)
    return decide([item], (len(reference), len(current)), config)[0]


def by_severity(features: list[FeatureDrift]) -> list[FeatureDrift]:
    """Drift, warning, insufficient data, stable; then PSI, largest first."""
    return sorted(
        features,
        key=lambda item: (SEVERITY[item.verdict], -(item.psi if item.psi is not None else -1)),
    )


def score_drift(reference, current, config: DriftConfig) -> tuple[float | None, str]:
    """PSI of the model score on the reference's bins, with the PSI verdict rule (one test)."""
    value, _, verdict = score_drift_test(reference, current, config)
    return value, verdict


def score_drift_test(reference, current, config: DriftConfig):
    """(PSI, chi-squared p-value, verdict) of the model score: reference scores should be
    out-of-sample (test split or out-of-fold), never the training rows' own scores."""
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if not ref.size or not cur.size:
        return None, None, INSUFFICIENT
    bins = Bins.fit(ref)
    ref_counts, cur_counts = bins.count(ref)[:-1], bins.count(cur)[:-1]
    value = psi(ref_counts, cur_counts)
    p_value = chi2_p_value(ref_counts, cur_counts)
    if not _enough(ref.size, cur.size, config):
        return value, p_value, INSUFFICIENT
    thresholds = (config.psi_warning, config.psi_alert)
    return value, p_value, level(value, p_value, thresholds, config.alpha)


def dataset_verdict(
    features: list[FeatureDrift], score_verdict: str, rows_current: int, config: DriftConfig
) -> str:
    """Drift when enough features drift or the score drifts; warning on any flag; else stable."""
    if rows_current < config.min_rows:
        return INSUFFICIENT
    verdicts = [item.verdict for item in features]
    share = verdicts.count(DRIFT) / len(verdicts) if verdicts else 0.0
    if (verdicts and share >= config.dataset_share) or score_verdict == DRIFT:
        return DRIFT
    if {DRIFT, WARNING} & {*verdicts, score_verdict}:
        return WARNING
    if INSUFFICIENT in verdicts and STABLE not in verdicts:
        return INSUFFICIENT
    return STABLE


def target_rate(frame: pd.DataFrame, target: str) -> float | None:
    """Mean of the 0/1 target where labels exist, None without labels."""
    if target not in frame.columns or frame[target].notna().sum() == 0:
        return None
    return float(frame[target].dropna().astype("float64").mean())


def analyse(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    config: DriftConfig,
    *,
    scores: tuple[Any, Any] | None = None,
    target: str | None = None,
) -> DriftReport:
    """Drift of every feature, of the score (reference, current) and the dataset verdict.

    `scores` are (reference, current) model scores; the reference ones should come from rows
    the model did not train on (test split or out-of-fold).
    """
    measured = [measure_numeric(name, reference[name], current[name], config) for name in numeric]
    measured += [
        measure_categorical(name, reference[name], current[name], config) for name in categorical
    ]
    features = decide(measured, (len(reference), len(current)), config)
    score_psi, score_p, score_verdict = (
        (None, None, INSUFFICIENT) if scores is None else score_drift_test(*scores, config)
    )
    return DriftReport(
        verdict=dataset_verdict(features, score_verdict, len(current), config),
        rows_reference=len(reference),
        rows_current=len(current),
        features=by_severity(features),
        score_psi=score_psi,
        score_verdict=score_verdict,
        target_rate_reference=target_rate(reference, target) if target else None,
        target_rate_current=target_rate(current, target) if target else None,
        config=config,
        score_p_value=score_p,
    )


def _number(value: float | None, digits: int = 3) -> str:
    """A rounded number, or an en dash when missing."""
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _p_value(value: float | None) -> str:
    """p-values as p = 0.123 or p < 0.001."""
    if value is None:
        return "–"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _percent(value: float | None) -> str:
    """A share as a percentage with one decimal."""
    return "–" if value is None else f"{100 * value:.1f} %"


def _row(item: dict) -> str:
    """One table row, from a `features.json` record."""
    verdict = item.get("verdict", "?")
    shown = f"**{verdict}**" if verdict in (DRIFT, WARNING) else verdict
    test = f"{'KS' if item.get('test') == 'ks' else 'χ²'} {_p_value(item.get('p_value'))}"
    distance_name = str(item.get("distance_name", ""))
    name = DISTANCE_NAMES.get(distance_name, distance_name)
    missing = item.get("missing_change")
    change = "–" if missing is None else f"{100 * missing:+.1f} pp"
    levels = item.get("unseen") or []
    unseen = ", ".join(f"`{name}`" for name in levels[:5])
    unseen += f" (+{len(levels) - 5})" if len(levels) > 5 else ""
    if levels and item.get("unseen_share") is not None:
        unseen += f" ({_percent(item['unseen_share'])})"
    flags = [name for name in item.get("flags") or [] if name != "distribution"]
    cells = [
        f"`{item.get('feature')}`",
        str(item.get("kind", "")),
        _number(item.get("psi")),
        test,
        "–" if item.get("distance") is None else f"{_number(item.get('distance'))} ({name})",
        change,
        unseen or "–",
        f"{VERDICT_ICONS.get(verdict, '')} {shown}".strip()
        + (f" ({', '.join(flags)})" if flags else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def features_table(features: list[dict]) -> str:
    """The per-feature drift table (the one renderer: drift summary, PR report, monitoring)."""
    rows = [
        "| feature | kind | PSI | test | distance | missing change | unseen | verdict |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    return "\n".join(rows + [_row(item) for item in features])


def summary_markdown(report: DriftReport) -> str:
    """Markdown for the PR comment: dataset verdict, score, target rate, features by severity."""
    facts = report.metrics()
    config = report.config
    lines = [
        f"**Dataset drift: {report.verdict}** ({facts['features_drift']} of "
        f"{facts['features_total']} features drifted, {facts['features_warning']} "
        f"warning{'s' * (facts['features_warning'] != 1)}; "
        f"reference {report.rows_reference:,} rows, current {report.rows_current:,} rows)",
        "",
    ]
    if report.rows_current < config.min_rows:
        lines += [
            f"The current part has {report.rows_current:,} rows, fewer than drift.min_rows = "
            f"{config.min_rows}: too few for a sound verdict.",
            "",
        ]
    lines += [
        f"- Score drift: PSI {_number(report.score_psi)} ({report.score_verdict})",
        f"- Target rate: reference {_percent(report.target_rate_reference)}, "
        f"current {_percent(report.target_rate_current)}",
        f"- Verdicts by {config.numeric_method} (numeric) and {config.categorical_method} "
        f"(categorical), each flag needing a significant test (alpha {config.alpha}, "
        f"{ADJUSTMENTS[config.multiple_testing]}) and an effect at its threshold: PSI warning "
        f"{config.psi_warning}, alert {config.psi_alert}; missing-share change "
        f"{config.missing_warning}/{config.missing_alert}; unseen-level share "
        f"{config.unseen_warning}/{config.unseen_alert}; distance {config.distance_threshold}; "
        f"min non-missing rows {config.min_rows}; dataset drift at {config.dataset_share:.0%} "
        "of features drifted or score drift",
        "",
        features_table([item.to_dict() for item in report.features]),
    ]
    return "\n".join(lines) + "\n"
