"""The typed report and its one serialiser (report.json, the database's copy)."""

import json

from kaizen.monitoring import signals as S
from kaizen.monitoring.window import Window
from tests.unit.monitoring.conftest import NOW, params, window

SECTIONS = [
    "level",
    "exit_code",
    "generated_at",
    "window",
    "model_versions",
    "signals",
    "reference",
    "estimated",
    "estimated_accepted",
    "realised",
    "calibration",
    "drift",
    "charts",
    "notes",
    "sections",
]


def test_to_dict_is_report_json(reference):
    """Every section in report.json's order; typed values as JSON: datetimes as ISO text,
    nested figures as dicts, floats rounded, NaN as null."""
    report = S.analyse(
        window(1200, labelled=True, matured=True), reference, params(outcome_window_days=0), [], NOW
    )
    content = report.to_dict()
    assert list(content) == SECTIONS
    json.dumps(content, allow_nan=False)
    assert content["generated_at"] == NOW.isoformat()
    assert content["window"]["until"] == NOW.isoformat() and content["window"]["events"] == 1200
    assert [s["name"] for s in content["signals"]] == [s.name for s in report.signals]
    assert content["realised"]["auc_test"]["p_value"] == round(report.realised.auc_test.p_value, 6)
    assert content["realised"]["grades"][0]["rows"] == report.realised.grades[0].rows
    assert "p_adjusted_two_sided" in content["calibration"]["grades"][0]
    assert "p_adjusted_two_sided" not in content["realised"]["grades"][0]
    assert content["estimated"]["assumptions"] == list(report.estimated.assumptions)
    assert content["drift"]["features"][0]["feature"] == report.drift.features[0].feature
    assert content["charts"]["history"][-1]["estimated_auc"] == round(report.estimated.roc_auc, 6)
    assert report.signal("volume").name == "volume"
    assert sorted(s.name for s in report.feature_rows) == ["feature:Home", "feature:Income"]


def test_empty_window_serialises_without_nan(reference):
    """No events: the estimate is NaN in the typed report and null in report.json."""
    empty = window(10)
    empty = Window(empty.frame.iloc[:0], empty.since, empty.until)
    report = S.analyse(empty, reference, params(), [], NOW)
    content = report.to_dict()
    json.dumps(content, allow_nan=False)
    assert content["estimated"]["roc_auc"] is None and content["realised"] is None
