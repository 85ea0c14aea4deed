"""The pull-request report's metrics and params tables."""

from __future__ import annotations

from kaizen.reporting import tables as R

EVALUATE = "metrics/evaluate/metrics.json"


def test_metrics_table_marks_each_row():
    """Every metric gets base, head, change and its mark, in the given order."""
    table = R.metrics_table(
        {
            "current.brier": {"old": 0.14, "new": 0.13},
            "current.roc_auc": {"old": 0.80, "new": 0.82},
            "verdict": {"old": "stable", "new": "drift"},
        },
        order=["current.roc_auc", "current.brier"],
    )
    lines = table.splitlines()
    assert lines[2] == "| current.roc_auc | 0.8 | 0.82 | +0.02 | ✅ |"
    assert lines[3] == "| current.brier | 0.14 | 0.13 | -0.01 | ✅ |"
    assert lines[4] == "| verdict | stable | drift | – | – |"


def test_params_table():
    """Changed params are listed with old and new values; none changed says so."""
    table = R.params_table({"params.yaml": {"train.logreg.C": {"old": 1.0, "new": 0.01}}})
    assert "| train.logreg.C | 1 | 0.01 | params.yaml |" in table
    assert R.params_table({}) == "### Params\n\nNo params changed."


def test_evaluate_table_leads_with_headline_metrics():
    """Headline metrics open, the rest folded; counts unmarked when the thresholds differ."""
    values = {
        "threshold": {"old": 0.2, "new": 0.17},
        "test.tp": {"old": 150, "new": 160},
        "test.recall": {"old": 0.8, "new": 0.85},
        "test.cost": {"old": 0.44, "new": 0.43},
        "current.roc_auc": {"old": 0.84, "new": 0.85},
        "cv.roc_auc": {"old": 0.83, "new": 0.84},
    }
    text = R.evaluate_table(EVALUATE, values, list(values))
    lead, rest = text.split("<details>")
    assert lead.index("current.roc_auc") < lead.index("cv.roc_auc") < lead.index("test.cost")
    assert "test.tp" not in lead and "test.tp" in rest
    assert "<summary>2 more metrics (2 changed)</summary>" in text
    assert "| test.tp | 150 | 160 | +10 | – |" in rest
    assert "| test.recall | 0.8 | 0.85 | +0.05 | – |" in rest
    assert "| test.cost | 0.44 | 0.43 | -0.01 | ✅ |" in lead  # cost: each side's own rule
    assert "thresholds differ (0.2 → 0.17): counts, precision, recall and F1 are not marked" in text
    same = dict(values, threshold={"old": 0.2, "new": 0.2})
    assert "| test.tp | 150 | 160 | +10 | ✅ |" in R.evaluate_table(EVALUATE, same, list(same))
