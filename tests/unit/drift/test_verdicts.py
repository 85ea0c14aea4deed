"""Drift statistics, verdicts and summary: known values, guards and false-alarm rates."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kaizen import KaizenError
from kaizen.io import tables
from kaizen.pipeline import data as D
from kaizen.drift import rendering, statistics, verdicts
from kaizen.config import DataConfig, DriftConfig, parse_params
from kaizen.splits import RowSplit

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = DriftConfig()
SMALL = DriftConfig(min_rows=100)  # lets the statistical guards, not the size guard, decide


def normal(n: int, shift: float = 0.0, seed: int = 0) -> pd.Series:
    """n draws of N(shift, 1)."""
    return pd.Series(np.random.default_rng(seed).normal(shift, 1.0, n))


def test_identical_samples_have_zero_psi_and_are_stable():
    """The same numeric and categorical sample on both sides: PSI 0, p 1, stable."""
    values = normal(2000)
    item = verdicts.numeric_drift("x", values, values.copy(), DEFAULT)
    assert item.psi == pytest.approx(0.0, abs=1e-12)
    assert item.p_value == pytest.approx(1.0)
    assert (item.test, item.distance, item.verdict) == ("chi2", None, "stable")
    config = DriftConfig(numeric_method="wasserstein")
    assert verdicts.numeric_drift("x", values, values.copy(), config).distance == pytest.approx(0.0)
    levels = pd.Series(["a", "b", "c", None] * 200, dtype=object)
    cat = verdicts.categorical_drift("c", levels, levels.copy(), DEFAULT)
    assert (cat.psi, cat.verdict, cat.flags) == (pytest.approx(0.0), "stable", [])
    assert cat.p_value == pytest.approx(1.0)


def test_shifted_normal_psi_in_expected_band():
    """N(0,1) vs N(0.5,1), 5000 rows each: PSI near its analytic value 0.238.

    On exact deciles the population PSI is 0.2377 (integrating the normal densities); sampling
    adds about 9 * (2 / 5000) = 0.004. 200 seeded simulations gave mean 0.246 and a 99 % range
    [0.196, 0.292], hence the band [0.19, 0.30]; add-1/2 smoothing moves it by < 0.001.
    """
    item = verdicts.numeric_drift("x", normal(5000), normal(5000, 0.5, seed=1), DEFAULT)
    assert 0.19 <= item.psi <= 0.30
    assert item.verdict == "warning"  # between psi_warning 0.10 and psi_alert 0.25
    assert item.p_value < 1e-10
    config = DriftConfig(numeric_method="wasserstein")
    item = verdicts.numeric_drift("x", normal(5000), normal(5000, 0.5, seed=1), config)
    assert item.distance == pytest.approx(0.5, abs=0.05)  # W1 of a 0.5 sd shift, normed


def test_large_shift_is_drift():
    """A one-sd shift is drift under every numeric method."""
    for method in ("psi", "ks", "wasserstein"):
        config = DriftConfig(numeric_method=method)
        item = verdicts.numeric_drift("x", normal(1000), normal(1000, 1.0, seed=1), config)
        assert (item.verdict, item.method, item.flags) == ("drift", method, ["distribution"])


def test_spike_gets_its_own_bin():
    """A value holding >= 10 % of the reference is a bin; deciles of the rest; NaN last."""
    reference = np.array([1.0] * 55 + [2.0] * 45 + [np.nan] * 10)
    current = np.array([1.0, 2.0, 3.0, 0.0, np.nan])
    ref_counts, cur_counts = statistics.numeric_counts(reference, current)
    # bins: {1}, {2}, everything else (no other reference value), missing
    assert ref_counts.tolist() == [55, 45, 0, 10]
    assert cur_counts.tolist() == [1, 1, 2, 1]
    bins = statistics.Bins.fit(np.r_[np.zeros(800), np.arange(1.0, 201.0)])
    assert bins.spikes.tolist() == [0.0] and bins.edges.size == 9 and bins.size == 11


def test_decile_edges_close_their_bin():
    """Without a spike, bins are (-inf, e1], (e1, e2], ... (e9, inf) on reference deciles."""
    reference = np.arange(1.0, 101.0)
    bins = statistics.Bins.fit(reference)
    assert bins.spikes.size == 0
    assert bins.edges.tolist() == pytest.approx(np.quantile(reference, statistics.DECILES).tolist())
    counts = bins.count(np.array([bins.edges[0], bins.edges[0] + 1e-9, 1e9]))
    assert counts.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]


def test_zero_inflated_debt_scaled_is_no_longer_stable():
    """82 % zeros: deciles collapsed to 3 bins and x2.5 on every debtor read as stable; the
    spike-aware bins see the change (PSI about 0.2 here)."""
    rng = np.random.default_rng(5)
    debt = np.where(rng.random(4000) < 0.82, 0.0, rng.lognormal(7, 0.8, 4000).round())
    reference, current = pd.Series(debt[:2000]), pd.Series(debt[2000:])
    assert verdicts.numeric_drift("Debt", reference, current, DEFAULT).verdict == "stable"
    item = verdicts.numeric_drift("Debt", reference, current * 2.5, DEFAULT)
    assert item.psi > 0.15 and item.verdict in ("warning", "drift")
    old_edges = np.unique(np.quantile(reference, statistics.DECILES))
    assert old_edges.size <= 2  # what the decile-only bins had to work with


def test_many_unseen_rows_are_drift_by_their_own_threshold():
    """25 % of the window in levels the reference never had: the unseen component drifts."""
    reference = pd.Series(["a", "b"] * 400, dtype=object)
    current = pd.Series(["a", "b"] * 300 + ["z"] * 150 + ["y"] * 50, dtype=object)
    ref_counts, cur_counts, unseen = statistics.categorical_counts(reference, current)
    assert unseen == ["y", "z"]
    assert ref_counts.tolist() == [400, 400, 0, 0]
    assert cur_counts.tolist() == [300, 300, 200, 0]
    item = verdicts.categorical_drift("c", reference, current, DEFAULT)
    assert item.unseen == ["y", "z"] and item.unseen_share == pytest.approx(0.25)
    assert (item.verdict, item.flags) == ("drift", ["unseen"])
    assert item.psi == pytest.approx(0.0)  # the known levels keep their shares
    assert item.components["unseen"]["p_value"] < 1e-10


def test_three_percent_unseen_is_a_warning_not_an_epsilon_artefact():
    """An epsilon floor made a 3 % unseen level read PSI 0.17; now the unseen share is judged
    by unseen_warning (1 %) / unseen_alert (5 %) and PSI stays on the known levels."""
    reference = pd.Series(["a", "b", "c"] * 800, dtype=object)
    current = pd.Series(["a", "b", "c"] * 650 + ["new"] * 60, dtype=object)
    item = verdicts.categorical_drift("c", reference, current, DEFAULT)
    assert item.unseen_share == pytest.approx(60 / 2010)
    assert item.psi < 0.01
    assert (item.verdict, item.flags) == ("warning", ["unseen"])


def test_rare_unseen_level_is_not_flagged():
    """One unseen value in a 1,000-row window is within what the reference could have missed."""
    reference = pd.Series(["a", "b"] * 600, dtype=object)
    current = pd.Series(["a", "b"] * 499 + ["rare", "a"], dtype=object)
    item = verdicts.categorical_drift("c", reference, current, DEFAULT)
    assert item.unseen == ["rare"]
    assert item.components["unseen"]["p_value"] > 0.05 and item.verdict == "stable"


def test_unseen_p_value_uses_the_rule_of_three_bound():
    """Binomial tail at the 3/n bound; None without unseen values."""
    assert statistics.unseen_p_value(0, 1000, 500) is None
    expected = stats.binom.sf(9, 500, 3 / 1000)
    assert statistics.unseen_p_value(10, 1000, 500) == pytest.approx(expected)


def test_missing_rate_change():
    """Missing shares per side and their difference; 20 pp more missing is drift."""
    reference = pd.Series([1.0, 2.0] * 450 + [np.nan] * 100)
    current = pd.Series([1.0, 2.0] * 350 + [np.nan] * 300)
    item = verdicts.numeric_drift("x", reference, current, DEFAULT)
    assert item.missing_reference == pytest.approx(0.1)
    assert item.missing_current == pytest.approx(0.3)
    assert item.missing_change == pytest.approx(0.2)
    assert (item.verdict, item.flags) == ("drift", ["missing"])
    assert item.components["distribution"]["verdict"] == "stable"


def test_missing_p_value_is_fishers_exact():
    """Fisher's exact test on the 2 x 2 missing table; None when nothing is missing."""
    assert statistics.missing_p_value((0, 0), (100, 100)) is None
    expected = stats.fisher_exact([[1, 99], [9, 91]]).pvalue
    assert statistics.missing_p_value((1, 9), (100, 100)) == pytest.approx(expected)


def test_power_guard_counts_non_missing_values():
    """1,000 rows a side of which 900 missing: 100 values have too little power at PSI 0.10,
    insufficient data; the same 1,000 values present are judged stable. min_rows is a floor."""
    rng = np.random.default_rng(1)
    reference = pd.Series(np.r_[rng.normal(size=100), [np.nan] * 900])
    current = pd.Series(np.r_[rng.normal(size=100), [np.nan] * 900])
    item = verdicts.numeric_drift("x", reference, current, DEFAULT)
    assert (item.n_reference, item.n_current) == (100, 100)
    assert item.verdict == "insufficient data"
    assert item.components["distribution"]["power"] < DEFAULT.min_power
    whole = verdicts.numeric_drift("x", normal(1000), normal(1000, seed=3), DEFAULT)
    assert whole.verdict == "stable" and whole.components["distribution"]["power"] > 0.8
    floor = DriftConfig(min_rows=2000)
    assert verdicts.numeric_drift("x", normal(1000), normal(1000, 2.0), floor).verdict == (
        "insufficient data"
    )


def test_small_window_flags_a_real_shift_and_is_not_called_stable():
    """A test without power cannot call a window stable (insufficient data), but a shift it
    finds significant past the threshold is flagged at any size: evidence is evidence."""
    item = verdicts.numeric_drift("x", normal(1000), normal(200, 1.0, seed=1), DEFAULT)
    assert item.verdict == "drift" and item.psi > 0.25
    quiet = verdicts.numeric_drift("x", normal(1000), normal(60, seed=1), DEFAULT)
    assert quiet.verdict == "insufficient data"
    report = verdicts.analyse(
        pd.DataFrame({"x": normal(1000)}), pd.DataFrame({"x": normal(60)}), ["x"], [], DEFAULT
    )
    assert report.verdict == "insufficient data"


def test_smoothed_psi_is_finite_with_empty_bins():
    """Add-1/2 shares: a bin empty on one side stays finite; empty on both sides is ignored."""
    value = statistics.psi([10, 0, 5], [0, 10, 5])
    p = np.array([10.5, 0.5, 5.5]) / 16.5
    q = np.array([0.5, 10.5, 5.5]) / 16.5
    assert value == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert statistics.psi([10, 0, 5, 0], [0, 10, 5, 0]) == pytest.approx(value)


def test_sparse_chi2_cells_are_merged():
    """Columns with an expected count under 5 are pooled; the test then matches scipy's."""
    ref = np.array([500, 300, 6, 5, 4, 0])
    cur = np.array([250, 160, 3, 4, 2, 0])
    table = statistics.merge_sparse(np.vstack([ref, cur]))
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    assert expected.min() >= 5 and table.sum() == ref.sum() + cur.sum()
    assert table.shape == (2, 3)  # 500 | 300 | the three small levels pooled
    scipy_p = stats.chi2_contingency(table, correction=False).pvalue
    assert statistics.chi2_p_value(ref, cur) == pytest.approx(scipy_p)
    assert statistics.chi2_p_value([5, 0], [7, 0]) == 1.0  # one occupied bin: nothing to test


def test_chi2_holds_its_level_on_small_windows():
    """Undrifted 40-row windows against 3,000 rows on ten equal bins: the 5 % test rejects in at
    most 6.5 % of 1,000 seeded windows (measured 4.0 %; pooling sparse cells by their totals,
    which hold the current counts, rejected 31 %)."""
    rng = np.random.default_rng(3)
    reference = rng.beta(2, 5, 3000)
    bins = statistics.Bins.fit(reference)
    ref_counts = bins.count(reference)[:-1]
    rejected = [
        statistics.chi2_p_value(ref_counts, bins.count(rng.beta(2, 5, 40))[:-1]) < 0.05
        for _ in range(1000)
    ]
    assert np.mean(rejected) <= 0.065


def test_holm_and_benjamini_hochberg_adjustments():
    """Hand-computed adjusted p-values, in the input order."""
    p = [0.01, 0.04, 0.03, 0.005]
    assert statistics.adjust(p, "holm").tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert statistics.adjust(p, "bh").tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert statistics.adjust(p, "none").tolist() == p
    assert statistics.adjust([], "holm").size == 0
    assert statistics.adjust([0.5, 0.6], "holm").max() == 1.0


def false_alarm_rates(config: DriftConfig, trials: int = 300) -> dict[str, float]:
    """Share of verdicts per kind over seeded 1000-vs-200 draws from one distribution."""
    rng = np.random.default_rng(20240601)
    pool = rng.lognormal(3, 0.6, 20_000).round()  # skewed with ties, like amounts
    found = []
    for trial in range(trials):
        if trial % 2:
            reference, current = rng.normal(size=1000), rng.normal(size=200)
        else:
            reference, current = rng.choice(pool, 1000), rng.choice(pool, 200)
        item = verdicts.numeric_drift("x", pd.Series(reference), pd.Series(current), config)
        found.append(item.verdict)
    counts = pd.Series(found).value_counts(normalize=True)
    return {kind: float(counts.get(kind, 0.0)) for kind in verdicts.SEVERITY}


def test_no_false_alarms_on_small_windows_with_defaults():
    """A 200-row window against 1,000 has power under 0.8 at PSI 0.10: never a false alarm,
    never called stable."""
    rates = false_alarm_rates(DEFAULT, trials=40)
    assert rates["insufficient data"] == 1.0


@pytest.mark.parametrize("method", ["psi", "ks", "wasserstein"])
def test_false_alarm_rate_is_low_on_small_windows(method):
    """200 vs 1,000 rows, no drift, size guard lowered: any flag under 5 %.

    Evidently's default (normed Wasserstein >= 0.1, no significance check) flags about 40 % of
    these columns.
    """
    rates = false_alarm_rates(SMALL.model_copy(update={"numeric_method": method}))
    assert rates["drift"] + rates["warning"] < 0.05


def undrifted_windows(config: DriftConfig, trials: int = 60) -> float:
    """Share of 12-column undrifted 300-row windows with at least one flagged column."""
    rng = np.random.default_rng(99)
    flagged = 0
    names = [f"x{i}" for i in range(12)]
    for _ in range(trials):
        reference = pd.DataFrame(rng.normal(size=(1000, 12)).round(1), columns=names)
        current = pd.DataFrame(rng.normal(size=(300, 12)).round(1), columns=names)
        report = verdicts.analyse(reference, current, names, [], config)
        flagged += any(item.verdict in ("drift", "warning") for item in report.features)
    return flagged / trials


def test_multiple_testing_control_across_features():
    """ks with p < alpha and a low effect floor, 12 columns: unadjusted, windows get flagged
    somewhere far more often than with Holm (which bounds it near alpha)."""
    loose = DriftConfig(numeric_method="ks", min_rows=100, psi_warning=0.01, psi_alert=0.25)
    unadjusted = undrifted_windows(loose.model_copy(update={"multiple_testing": "none"}))
    holm = undrifted_windows(loose)
    assert unadjusted > 0.2  # about 1 - 0.95 ** 12 = 46 % before the effect floor
    assert holm <= 0.1 and holm < unadjusted / 3


def test_real_shift_is_still_found_on_small_windows():
    """The guards keep power: a one-sd shift in a 200-row window is caught almost always."""
    caught = [
        verdicts.numeric_drift("x", normal(1000, seed=seed), normal(200, 1.0, seed=seed + 1), SMALL)
        for seed in range(0, 60, 2)
    ]
    assert sum(item.verdict == "drift" for item in caught) >= 28


def test_significant_but_negligible_shift_is_stable():
    """Large samples make a tiny shift significant: below the effect floor it is not flagged."""
    config = DriftConfig(numeric_method="ks")
    item = verdicts.numeric_drift("x", normal(50_000), normal(50_000, 0.05, seed=1), config)
    assert item.p_value < config.alpha
    assert item.psi < config.psi_warning
    assert item.verdict == "stable"


def test_score_drift():
    """Score PSI: stable on the same distribution, drift on shifted scores, empty current."""
    rng = np.random.default_rng(3)
    reference = rng.beta(2, 5, 3000)
    same_psi, same = verdicts.score_drift(reference, rng.beta(2, 5, 2000), DEFAULT)
    assert same == "stable" and same_psi < 0.02
    shifted_psi, shifted = verdicts.score_drift(reference, rng.beta(4, 3, 2000), DEFAULT)
    assert shifted == "drift" and shifted_psi > 0.25
    assert verdicts.score_drift(reference, [], DEFAULT) == (None, "insufficient data")
    assert verdicts.score_drift(reference, rng.beta(2, 5, 40), DEFAULT)[1] == "insufficient data"
    assert verdicts.score_drift(reference, rng.beta(4, 3, 50), DEFAULT)[1] == "drift"  # evidence


def _item(verdict: str, psi: float = 0.0, name: str = "x") -> verdicts.FeatureDrift:
    """A minimal feature record with a given verdict."""
    return verdicts.FeatureDrift(
        name, "numeric", psi, "ks", 0.5, 0.0, "wasserstein_normed", 0.0, 0.0, 0.0, verdict=verdict
    )


def test_dataset_verdict_rules():
    """Share of drifted features, score drift, any flag, small current part."""
    verdict = verdicts.dataset_verdict
    assert verdict([_item("drift"), _item("stable")], "stable", 1000, DEFAULT) == "drift"
    assert verdict([_item("drift"), _item("stable"), _item("stable")], "stable", 1000, DEFAULT) == (
        "warning"
    )
    assert verdict([_item("stable")], "drift", 1000, DEFAULT) == "drift"
    assert verdict([_item("stable")], "warning", 1000, DEFAULT) == "warning"
    assert verdict([_item("stable")], "stable", 1000, DEFAULT) == "stable"
    assert verdict([_item("drift")], "drift", 10, DriftConfig(min_rows=100)) == "insufficient data"
    unjudged = [_item("stable"), _item("insufficient data")]
    assert verdict(unjudged, "stable", 1000, DEFAULT) == "insufficient data"


def test_report_sorts_by_severity_and_summary_lists_them():
    """Features by verdict then PSI; the markdown starts with the dataset line, rows in order."""
    reference = pd.DataFrame(
        {
            "a": normal(1000),
            "b": normal(1000, seed=2),
            "c": normal(1000, seed=4),
            "k": pd.Series(["u", "v"] * 500, dtype=object),
        }
    )
    current = pd.DataFrame(
        {
            "a": normal(800, seed=5),
            "b": normal(800, 1.5, seed=6),
            "c": normal(800, 0.5, seed=7),
            "k": pd.Series(["u", "v", "w", "w"] * 200, dtype=object),
            "Status": [0, 1] * 400,
        }
    )
    reference["Status"] = [0, 0, 0, 1] * 250
    scores = (np.linspace(0, 1, 1000), np.linspace(0, 1, 800))
    report = verdicts.analyse(
        reference, current, ["a", "b", "c"], ["k"], DEFAULT, scores=scores, target="Status"
    )
    order = [item.feature for item in report.features]
    assert order[:2] == ["b", "k"] or order[:2] == ["k", "b"]
    assert order[2:] == ["c", "a"]
    metrics = report.metrics()
    assert metrics["verdict"] == "drift"  # 2 of 4 features drifted
    assert (metrics["target_rate_reference"], metrics["target_rate_current"]) == (0.25, 0.5)
    assert metrics["score_verdict"] == "stable"
    text = rendering.summary_markdown(report)
    assert text.startswith("**Dataset drift: drift**")
    positions = [text.index(f"| `{name}` |") for name in order]
    assert positions == sorted(positions)
    assert "`w`" in text and "Target rate: reference 25.0 %, current 50.0 %" in text


def test_records_are_strict_json():
    """NaN and infinities become null; floats are rounded."""
    item = verdicts.FeatureDrift(
        "x",
        "numeric",
        float("nan"),
        "ks",
        float("inf"),
        0.1234567891,
        "wasserstein_normed",
        0,
        0,
        0,
    )
    text = json.dumps(item.to_dict(), allow_nan=False)
    assert '"psi": null' in text and '"p_value": null' in text and "0.123457" in text


@pytest.mark.parametrize("name", ["psi", "missing", "unseen"])
def test_warning_above_alert_is_rejected(name):
    """Config: a warning threshold above its alert threshold names the section and the pair."""
    raw = {"data": {"path": "d.csv", "target": "y", "positive": 1}}
    raw["drift"] = {f"{name}_warning": 0.3, f"{name}_alert": 0.2}
    with pytest.raises(KaizenError, match=f"drift.*{name}_warning must not exceed {name}_alert"):
        parse_params(raw)


SPLIT = RowSplit(by="row", start=2479)  # params.yaml's default split


def test_default_data_expenses_drifted_age_amount_stable():
    """The embedded data split at row 2479: Expenses drifts (PSI 0.48 with its floor value 35 in
    a bin of its own; 0.43 on plain deciles), Age/Amount stable."""
    config = DataConfig(path="credit_data.csv", target="Status", positive="bad")
    source = ROOT / "data" / "raw" / "credit_data.csv"
    raw = tables.read_raw(source)
    schema = D.infer_schema(raw, config)
    reference, current = D.split_reference_current(D.clean(raw, schema, config, "data"), SPLIT)
    report = verdicts.analyse(reference, current, schema.numeric, schema.categorical, DEFAULT)
    items = {item.feature: item for item in report.features}
    assert 0.42 <= items["Expenses"].psi <= 0.52
    assert items["Expenses"].verdict == "drift"
    assert items["Age"].verdict == "stable"
    assert items["Amount"].verdict == "stable"
    assert report.features[0].feature == "Expenses"


def test_distinct_form_matches_the_raw_sample():
    """Quantiles, bin counts, std and KS from distinct values equal numpy's and scipy's."""
    rng = np.random.default_rng(8)
    sample = np.r_[rng.integers(0, 50, 15_000).astype(float), np.zeros(4000)]
    other = rng.integers(2, 60, 12_000).astype(float)
    distinct = statistics.Distinct.of(np.r_[sample, [np.nan]])
    assert distinct.size == sample.size
    levels = np.linspace(0, 1, 11)
    assert distinct.quantiles(levels).tolist() == pytest.approx(np.quantile(sample, levels))
    assert distinct.std() == pytest.approx(np.std(sample))
    bins = statistics.Bins.fit(distinct)
    assert bins.count(statistics.Distinct.of(other)).tolist() == bins.count(other).tolist()
    expected = stats.ks_2samp(sample, other).pvalue  # asymptotic: both sides > 10,000 rows
    value = statistics.ks_p_value(distinct, statistics.Distinct.of(other), (sample, other))
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-300)
    small = (sample[:500], other[:400])
    exact = statistics.ks_p_value(
        statistics.Distinct.of(small[0]), statistics.Distinct.of(small[1]), small
    )
    assert exact == pytest.approx(stats.ks_2samp(*small).pvalue)
