"""Drift signals carry the statistic their level was judged on, with that statistic's
thresholds, the same in report.md, report.html and metrics.prom."""

import pytest

from kaizen.format import fmt
from kaizen.monitoring import html, render
from kaizen.monitoring import signals as S
from tests.unit.monitoring.conftest import NOW, params, window

METHODS = [("psi", "psi"), ("ks", "chi2"), ("wasserstein", "jensenshannon")]


def test_wasserstein_critical_row_shows_w1_over_sigma_above_its_threshold(reference):
    """numeric_method wasserstein: Income's row is W₁/σ against drift.distance_threshold (not
    its PSI against the PSI thresholds), in every output; Home (psi) keeps PSI."""
    config = params(persistence=1, drift={"numeric_method": "wasserstein"})
    report = S.analyse(window(1500, shift=0.6), reference, config, [], NOW)
    income = report.signal("feature:Income")
    drift = next(item for item in report.drift.features if item.feature == "Income")
    assert (income.level, income.statistic) == ("critical", "W₁/σ")
    assert income.value == pytest.approx(drift.distance)
    assert income.warning == income.critical == config.drift.distance_threshold
    assert income.value >= income.critical
    home = report.signal("feature:Home")
    assert (home.statistic, home.warning, home.critical) == ("PSI", 0.1, 0.25)
    row = f"| `feature:Income` | 🔴 critical | W₁/σ | {fmt(income.value)} | – | 0.1 | 0.1 |"
    assert row in render.markdown(report)
    prom = render.prometheus(report, 0.0)
    labels = 'signal="feature:Income",statistic="W₁/σ"'
    assert f"kaizen_monitor_signal_value{{{labels}}} {round(income.value, 6)!r}" in prom
    assert f"kaizen_monitor_signal_critical_threshold{{{labels}}} 0.1" in prom
    page = html.page(report)
    assert "<td>W₁/σ</td>" in page and "warning = critical 0.1" in page
    assert f"W₁/σ {fmt(income.value)}</title>" in page


@pytest.mark.parametrize("numeric, categorical", METHODS)
def test_a_flagged_drift_row_reaches_its_own_threshold(reference, numeric, categorical):
    """Whatever the methods: every warning or critical drift row's value is at or above the
    threshold of its level (the breach before persistence)."""
    config = params(drift={"numeric_method": numeric, "categorical_method": categorical})
    report = S.analyse(window(1500, shift=0.6), reference, config, [], NOW)
    flagged = [s for s in report.signals if s.group == "drift" and s.breach != "ok"]
    assert flagged and all(s.statistic for s in report.signals)
    for item in flagged:
        bound = item.critical if item.breach == "critical" else item.warning
        assert item.value is not None and item.value >= bound, item


def test_decision_rate_is_judged_on_its_change(reference):
    """The refusal-rate row's value is the change its thresholds apply to; both rates shown."""
    report = S.analyse(window(1500, shift=0.6), reference, params(), [], NOW)
    item = report.signal("decision_rate")
    refused = (window(1500, shift=0.6).frame["decision"] == "refuse").mean()
    base = report.reference.refusal_rate
    assert item.value == pytest.approx(abs(refused - base))
    assert item.statistic == "refusal-rate change" and item.breach == "critical"
    assert f"vs {fmt(base)} of the test split" in item.detail
