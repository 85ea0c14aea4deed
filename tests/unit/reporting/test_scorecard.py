"""The PR report's scorecard section."""

from kaizen.reporting import report as R
from kaizen.reporting import scorecard

MODEL = {"cv": {"roc_auc": 0.84}, "test": {"roc_auc": 0.83}, "current": {"roc_auc": 0.85}}
CARD = {
    "cv": {"roc_auc": 0.82},
    "test": {"roc_auc": 0.8},
    "current": {"roc_auc": 0.86},
    "checks_passed": 1,
    "checks_failed": 1,
}
CHECKS = [
    {"check": "points_sum", "passed": True, "detail": "score = sum of points on all 9 rows"},
    {"check": "age_rule", "passed": False, "detail": "Age 62+ gets 31 points, another bin 33"},
]


def test_section_puts_the_scorecard_beside_the_model():
    """CV, test and out-of-time ROC AUC side by side with the gap; each check marked."""
    text = scorecard.section(MODEL, CARD, CHECKS)
    assert "| CV (train split) | 0.84 | 0.82 | +0.02 |" in text
    assert "| current (out-of-time) | 0.85 | 0.86 | -0.01 |" in text
    assert "**Validator checks: 1 passed, 1 failed**" in text
    assert "- ❌ `age_rule`: Age 62+ gets 31 points, another bin 33" in text
    assert "- ✅ `points_sum`" in text


def test_no_scorecard_no_section():
    """Without the benchmark's metrics the section is left out."""
    assert scorecard.section(MODEL, None, None) == ""


def test_the_report_carries_the_section():
    """build() places it in the report."""
    inputs = R.Inputs(
        "main", "workspace", head_metrics=MODEL, scorecard=CARD, scorecard_checks=CHECKS
    )
    assert "### Scorecard benchmark" in R.build(inputs)
