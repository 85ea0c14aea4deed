"""A window's signals and report."""

import dataclasses

import numpy as np
import pytest

from kaizen.bundle import recalibration
from kaizen.monitoring import signals as S
from kaizen.monitoring.drift_signals import volume_signal
from kaizen.monitoring.window import Window
from tests.unit.monitoring.conftest import NOW, params, window


def test_undrifted_window_is_ok(reference):
    """A window from the reference population: no drift signal, exit code 0."""
    report = S.analyse(window(1500), reference, params(), [], NOW)
    drift = [s for s in report.signals if s.group == "drift"]
    assert all(s.level == "ok" for s in drift), [(s.name, s.level) for s in drift]
    assert report.exit_code == 0
    assert report.window.events == 1500 and report.window.labelled == 0
    assert report.realised is None
    names = {s.name for s in report.signals}
    assert {"feature:Income", "feature:Home", "score_psi", "decision_rate", "volume"} <= names
    assert {"estimated_auc", "realised_auc", "calibration", "estimate_error"} <= names


def test_shifted_window_is_flagged_then_critical(reference):
    """Incomes shifted: warning on the first window (persistence 2), critical on the second."""
    shifted = window(1500, shift=0.6)
    first = S.analyse(shifted, reference, params(), [], NOW)
    income = next(s for s in first.signals if s.name == "feature:Income")
    assert (income.breach, income.level, first.level, first.exit_code) == (
        "critical",
        "warning",
        "warning",
        0,
    )
    history = [
        {
            "events": 1500,
            "until": NOW.isoformat(),
            "signals": {s.name: {"breach": s.breach, "level": s.level} for s in first.signals},
        }
    ]
    second = S.analyse(shifted, reference, params(), history, NOW)
    assert second.level == "critical" and second.exit_code == 2
    assert len(second.charts.history) == 2


def test_fifty_events_are_insufficient_data(reference):
    """50 events: every drift and estimate signal says so; overall insufficient data, exit 0."""
    report = S.analyse(window(50), reference, params(min_events=500), [], NOW)
    assert report.level == "insufficient data" and report.exit_code == 0
    for name in ("feature:Income", "score_psi", "estimated_auc", "realised_auc"):
        assert next(s for s in report.signals if s.name == name).level == "insufficient data"
    assert any("fewer than monitor.min_events" in note for note in report.notes)


def test_realised_performance_and_estimate_error(reference):
    """Matured outcomes: realised AUC, ECB test, grades, and |estimate - realised| small."""
    labelled = window(3000, labelled=True, matured=True)
    report = S.analyse(labelled, reference, params(outcome_window_days=0), [], NOW)
    realised = report.realised
    assert realised is not None
    assert realised.rows == 3000 and realised.auc_test.p_value is not None
    assert realised.estimate_error is not None and abs(realised.estimate_error) < 0.03
    auc = next(s for s in report.signals if s.name == "realised_auc")
    assert auc.level in ("ok", "warning", "critical") and auc.value == pytest.approx(
        realised.roc_auc, abs=1e-6
    )


def test_young_outcomes_are_counted_not_judged(reference):
    """Outcomes that have not matured (the store's query decides): labelled, not judged."""
    labelled = window(600, labelled=True)
    report = S.analyse(labelled, reference, params(outcome_window_days=365), [], NOW)
    assert report.window.labelled == 600 and report.window.matured_labelled == 0
    assert report.realised is None
    assert any("counted but not judged" in note for note in report.notes)
    old = window(600, labelled=True)
    old.frame["matured"] = True
    report = S.analyse(old, reference, params(outcome_window_days=365), [], NOW)
    assert report.window.matured_labelled == 600


def test_volume_against_recent_windows(reference):
    """A window far smaller than the recent median is a warning; last-N windows are not judged."""
    history = [{"events": 5000, "signals": {}}, {"events": 4000, "signals": {}}]
    report = S.analyse(window(1000), reference, params(), history, NOW)
    volume = next(s for s in report.signals if s.name == "volume")
    assert volume.level == "warning" and volume.reference == 4500
    last = window(1000)
    last = Window(last.frame, None, NOW, by_time=False)
    volume = next(
        s for s in S.analyse(last, reference, params(), history, NOW).signals if s.name == "volume"
    )
    assert volume.level == "ok" and "not judged" in volume.detail
    empty = Window(window(10).frame.iloc[:0], None, NOW)
    assert volume_signal(empty, [], params().monitor).level == "critical"


def test_report_is_json_ready(reference):
    """to_dict holds every section, numbers rounded, no NaN."""
    import json  # pylint: disable=import-outside-toplevel

    report = S.analyse(window(800), reference, params(), [], NOW).to_dict()
    text = json.dumps(report, allow_nan=False)
    assert set(report) >= {"level", "signals", "estimated", "realised", "drift", "charts"}
    assert "CBPE" in text


def test_estimate_unsupported_is_insufficient_data_with_the_reason(reference):
    """A recalibration map fitted on a narrow score range: a window mostly outside it gets no
    estimated-AUC verdict, and the signal says why."""
    narrow = reference.scores < np.quantile(reference.scores, 0.5)
    fitted = recalibration.fit(reference.scores[narrow], reference.labels[narrow])
    judged = S.analyse(
        window(1000), dataclasses.replace(reference, recalibration=fitted), params(), [], NOW
    )
    estimated = judged.signal("estimated_auc")
    assert estimated.level == "insufficient data" and "outside" in estimated.detail
    assert not judged.estimated.supported
    fine = S.analyse(
        window(1000),
        dataclasses.replace(
            reference, recalibration=recalibration.fit(reference.scores, reference.labels)
        ),
        params(),
        [],
        NOW,
    )
    assert fine.estimated.supported and fine.signal("estimated_auc").level == "ok"
    assert fine.reference.estimated_auc is not None
