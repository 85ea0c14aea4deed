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
undrifted windows somewhere. Guards from power (`kaizen.drift.power`): a component unflagged by
a test without `min_power` against an effect at its warning threshold reads "insufficient data",
not "stable"; a flag stands at any size. `min_rows` is only a floor on non-missing values.
Only what the chosen methods need is computed (KS and distances are None otherwise).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import distance as scipy_distance

from kaizen.config import DriftConfig
from kaizen.drift import power as W
from kaizen.drift.records import (  # noqa: F401  # pylint: disable=unused-import  # re-exported
    BINS,
    COMPONENTS,
    DIGITS,
    DISTANCES,
    DRIFT,
    INSUFFICIENT,
    SEVERITY,
    STABLE,
    WARNING,
    DriftReport,
    FeatureDrift,
)
from kaizen.drift.statistics import (
    Bins,
    Distinct,
    Summarised,
    Summary,
    adjust,
    categorical_counts,
    chi2_p_value,
    ks_p_value,
    missing_p_value,
    psi,
    unseen_p_value,
    wasserstein_normed,
)


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


def measure_numeric(
    name: str, reference: pd.Series, current: pd.Series | Summarised, config: DriftConfig
):
    """PSI and the chosen test (and distance) of a numeric feature, before any verdict; the
    current side may be a summary (sketched daily profiles: its counts per bin are estimates
    within the sketches' rank error, its KS p-value from the asymptotic law)."""
    ref = reference.to_numpy(dtype="float64")
    ref_ok = ref[~np.isnan(ref)]
    cur_ok, rows = _present(current)
    method = config.numeric_method
    value = p_value = dist = None
    ref_counts = np.empty(0)
    if ref_ok.size and cur_ok.size:
        ref_d = Distinct.of(ref_ok)
        bins = Bins.fit(ref_d)
        # PSI alone needs no sorted current sample; KS and Wasserstein do.
        cur_d = cur_ok if method == "psi" or isinstance(cur_ok, Distinct) else Distinct.of(cur_ok)
        ref_counts, cur_counts = bins.count(ref_d)[:-1], bins.count(cur_d)[:-1]
        value = psi(ref_counts, cur_counts)
        if isinstance(cur_d, Distinct) and method != "psi":
            raw = None if isinstance(cur_ok, Distinct) else (ref_ok, cur_ok)
            p_value = ks_p_value(ref_d, cur_d, raw)
            dist = wasserstein_normed(ref_d, cur_d) if method == "wasserstein" else None
        else:
            p_value = chi2_p_value(ref_counts, cur_counts)
    effect = dist if method == "wasserstein" else value
    facts = _facts(name, "numeric", (ref.size, rows), (ref_ok.size, cur_ok.size))
    return FeatureDrift(
        **facts,
        psi=value,
        test="chi2" if method == "psi" else "ks",
        p_value=p_value,
        distance=dist,
        distance_name="wasserstein_normed",
        components={"distribution": {"effect": effect, "p_value": p_value, BINS: ref_counts}},
        method=method,
    )


def _present(current: pd.Series | Summarised) -> tuple[np.ndarray | Distinct, int]:
    """The non-missing current values (a summary's weighted sample) and every value's count."""
    if isinstance(current, Summarised):
        empty = Distinct(np.empty(0), np.empty(0, dtype="int64"))
        return (empty if current.values is None else current.values), current.rows
    values = current.to_numpy(dtype="float64")
    return values[~np.isnan(values)], values.size


def measure_categorical(
    name: str, reference: pd.Series, current: pd.Series | Summarised, config: DriftConfig
):
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
    rows = current.rows if isinstance(current, Summarised) else len(current)
    facts = _facts(name, "categorical", (len(reference), rows), (n_ref, n_cur))
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
            "distribution": {"effect": effect, "p_value": p_value, BINS: known_ref},
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
    """Verdicts of every feature, p-values adjusted across all their tests (one family); each
    component's power at alpha / (tests in the family), the strictest level Holm uses."""
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
    family = sum(len(item.components) for item in items)  # every test that could be run
    strictest = config.alpha / max(family, 1) if config.multiple_testing != "none" else config.alpha
    return [
        _decide_one(
            item, {name: found.get((i, name)) for name in COMPONENTS}, rows, config, strictest
        )
        for i, item in enumerate(items)
    ]


def component_power(
    item: FeatureDrift, name: str, rows: tuple[int, int], config: DriftConfig, at: float
) -> float:
    """Power of a component's test against an effect at its warning threshold (drift.power)."""
    if name == "distribution":
        bins = item.components[name].get(BINS, np.empty(0))
        method = item.method if item.kind == "numeric" else config.categorical_method
        return W.distribution_power(method, bins, item.n_current, config, at, item.kind)
    if name == "missing":
        share = 0.0 if item.missing_reference is None else item.missing_reference
        return W.missing_power(share, rows, config.missing_warning, at)
    return W.unseen_power(item.n_reference, item.n_current, config.unseen_warning, at)


def effect_name(method: str) -> str:
    """The effect a distribution verdict is judged on: the distance for wasserstein and
    jensenshannon (named as FeatureDrift.distance_name), else PSI."""
    return DISTANCES.get(method, "psi")


def component_thresholds(component: str, method: str, config: DriftConfig) -> tuple[float, float]:
    """(warning, alert) thresholds of a component's effect under the feature's method."""
    if component == "missing":
        return config.missing_warning, config.missing_alert
    if component == "unseen":
        return config.unseen_warning, config.unseen_alert
    if method in DISTANCES:
        return config.distance_threshold, config.distance_threshold
    return config.psi_warning, config.psi_alert


def _decide_one(
    item: FeatureDrift, p_adjusted: dict, rows: tuple[int, int], config: DriftConfig, level_: float
) -> FeatureDrift:
    """Each component's verdict, then the feature's: its worst flag, else the distribution's.

    A component is flagged when its adjusted test is significant and its effect reaches the
    threshold, at any size past drift.min_rows; it is stable only when its test had the power
    drift.min_power against an effect at the warning threshold, else "insufficient data"."""
    thresholds = {name: component_thresholds(name, item.method, config) for name in COMPONENTS}
    present = _enough(item.n_reference, item.n_current, config)
    enough = {"distribution": present, "missing": _enough(*rows, config), "unseen": present}
    components = {}
    for name in [name for name in COMPONENTS if name in item.components]:
        part = {key: value for key, value in item.components[name].items() if key != BINS}
        found = power = None
        if enough[name]:
            found = level(part["effect"], p_adjusted[name], thresholds[name], config.alpha)
            power = component_power(item, name, rows, config, level_)
        if found is None or (found == STABLE and power is not None and power < config.min_power):
            found = INSUFFICIENT
        components[name] = {**part, "p_adjusted": p_adjusted[name], "power": power}
        components[name]["verdict"] = found
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
    ref = ref[~np.isnan(ref)]
    cur, _ = _present(current if isinstance(current, Summarised) else pd.Series(current))
    if not ref.size or not cur.size:
        return None, None, INSUFFICIENT
    bins = Bins.fit(ref)
    ref_counts, cur_counts = bins.count(ref)[:-1], bins.count(cur)[:-1]
    value = psi(ref_counts, cur_counts)
    p_value = chi2_p_value(ref_counts, cur_counts)
    if not _enough(ref.size, cur.size, config):
        return value, p_value, INSUFFICIENT
    thresholds = (config.psi_warning, config.psi_alert)
    found = level(value, p_value, thresholds, config.alpha)
    power = W.chi2_power(ref_counts, cur.size, config.psi_warning, config.alpha)
    return value, p_value, INSUFFICIENT if found == STABLE and power < config.min_power else found


def dataset_verdict(
    features: list[FeatureDrift], score_verdict: str, rows_current: int, config: DriftConfig
) -> str:
    """Drift when enough features drift or the score drifts; warning on any flag; insufficient
    data when any feature could not be judged (stable would claim what no test could see);
    else stable."""
    if rows_current < config.min_rows:
        return INSUFFICIENT
    verdicts = [item.verdict for item in features]
    share = verdicts.count(DRIFT) / len(verdicts) if verdicts else 0.0
    if (verdicts and share >= config.dataset_share) or score_verdict == DRIFT:
        return DRIFT
    if {DRIFT, WARNING} & {*verdicts, score_verdict}:
        return WARNING
    if INSUFFICIENT in verdicts:
        return INSUFFICIENT
    return STABLE


def target_rate(frame: pd.DataFrame, target: str) -> float | None:
    """Mean of the 0/1 target where labels exist, None without labels."""
    if target not in frame.columns or frame[target].notna().sum() == 0:
        return None
    return float(frame[target].dropna().astype("float64").mean())


def analyse(
    reference: pd.DataFrame,
    current: pd.DataFrame | Summary,
    numeric: list[str],
    categorical: list[str],
    config: DriftConfig,
    *,
    scores: tuple[Any, Any] | None = None,
    target: str | None = None,
) -> DriftReport:
    """Drift of every feature, of the score (reference, current) and the dataset verdict.

    `scores` are (reference, current) model scores; the reference ones should come from rows
    the model did not train on (test split or out-of-fold). `current` may be a Summary
    (kaizen.sketches: the window's daily profiles) instead of the rows, as may the current scores.
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
