"""The pull-request report's assembly: sections, verdict, drift section, size cap."""

from __future__ import annotations


import pandas as pd

from kaizen.reporting import report as R
from kaizen.pipeline.metrics import flatten
from tests.unit.reporting.samples import (
    DRIFT,
    FEATURES,
    metrics_file,
    roc_points,
    scores,
)


def diff_of(base: dict | None, head: dict) -> dict:
    """dvc-metrics-diff-like {metric: {old, new}} of two metrics files."""
    old = flatten(base or {})
    return {name: {"old": old.get(name), "new": value} for name, value in flatten(head).items()}


EVALUATE = "metrics/evaluate/metrics.json"


def inputs(base_auc: float | None, head_auc: float, **extra) -> R.Inputs:
    """Report inputs with evaluate metrics (and no scores unless given)."""
    base = metrics_file(base_auc) if base_auc is not None else None
    head = metrics_file(head_auc)
    values = {
        "base_label": "main",
        "head_label": "workspace",
        "evaluate_file": EVALUATE,
        "metrics_diff": {EVALUATE: diff_of(base, head)},
        "base_metrics": base,
        "head_metrics": head,
        "bootstrap": 200,
    }
    values.update(extra)
    return R.Inputs(**values)


def test_drift_section_from_contract_files():
    """Dataset verdict, score drift, target rate, and the top features in severity order."""
    text = R.drift_section(DRIFT, FEATURES, {"verdict": "stable"})
    assert "**Dataset drift: 🔴 drift** (base: stable)" in text
    assert "1 drifted, 1 warning, of 13" in text
    assert "model score: PSI 0.031, stable" in text
    assert "target rate: 0.2814 (reference) → 0.2815 (current)" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + R.TOP_FEATURES  # header + top rows
    # the drift module's one table renderer (same rows as the drift stage's summary.md)
    assert table[1].startswith(
        "| `Expenses` | numeric | 0.400 | KS p < 0.001 | 0.200 (wasserstein)"
    )
    assert "`new_level`" in table[2] and "🟠 **warning**" in table[2]
    assert "3 more feature(s), less severe: 3 stable." in text


def test_drift_section_missing():
    """No drift files yet: the section says so."""
    assert "Drift analysis not available" in R.drift_section(None, None)


def test_assemble_cuts_lowest_priority_first_and_notes_it():
    """Over the cap: the highest priority numbers go first, the note names them."""
    sections = [
        R.Section("verdict", "V" * 100, 0),
        R.Section("metrics", "M" * 100, 1),
        R.Section("charts", "C" * 300, 6),
        R.Section("pipeline", "P" * 300, 7),
    ]
    assert "✂️" not in R.assemble(sections, cap=10_000)
    text = R.assemble(sections, cap=500)
    assert len(text) <= 500
    assert "M" * 100 in text and "P" * 300 not in text and "C" * 300 not in text
    assert "Cut to stay under 500 characters: pipeline, charts." in text
    text = R.assemble(sections, cap=700)
    assert "C" * 300 in text and "Cut to stay under 700 characters: pipeline." in text


def test_assemble_truncates_when_only_the_verdict_is_left():
    """Even the uncuttable part is truncated to the cap, with a note."""
    text = R.assemble([R.Section("verdict", "line\n" * 200, 0)], cap=300)
    assert len(text) <= 300
    assert "the end of the report" in text


def test_build_with_a_change():
    """Verdict with the significance sentence, metrics table with marks, params, drift."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    report = R.build(
        inputs(
            0.70,
            0.90,
            params_diff={"params.yaml": {"train.logreg.C": {"old": 1.0, "new": 0.01}}},
            scores={"test": (base, head), "current": (base, head)},
            drift=DRIFT,
            drift_features=FEATURES,
            dag="```mermaid\nflowchart TD\n```",
        )
    )
    verdict = report.split("\n\n")[1]
    assert verdict.startswith("ROC AUC (current, out-of-time)")
    assert "**significant**" in verdict and "paired bootstrap" in verdict
    assert "Params changed: `train.logreg.C` 1 → 0.01." in verdict
    assert "Dataset drift: **drift** (1 of 13 features drifted" in verdict
    assert "| current.roc_auc | 0.7 | 0.9 | +0.2 | ✅ |" in report
    assert "### Is the difference real?" in report
    assert "<details><summary>Pipeline (dvc dag)</summary>" in report
    assert len(report) < R.CAP


def test_build_first_report():
    """No base metrics: says so and shows head values."""
    report = R.build(inputs(None, 0.85, scores={"test": (None, scores(0))}))
    assert "**First report**: the base `main` has no metrics yet" in report
    assert "ROC AUC (current, out-of-time) 0.85 [0.83, 0.87]" in report
    assert "| current.roc_auc | – | 0.85 | – | – |" in report
    assert "Is the difference real?" not in report


def test_build_without_workspace_metrics():
    """Nothing evaluated yet: the verdict says to run the pipeline."""
    report = R.build(R.Inputs(base_label="main", head_label="workspace"))
    assert "No metrics in the workspace: run `dvc repro`" in report
    assert "No metrics found." in report


def test_build_no_changes():
    """Base = head: 'No changes', no significance claim in the verdict."""
    same = scores(0)
    report = R.build(inputs(0.85, 0.85, scores={"test": (same, same), "current": (same, same)}))
    assert "**No changes** against `main`" in report
    assert "Drift analysis not available" in report
    assert "Code changed" not in report


def test_build_names_changed_code():
    """A code-only change is named, and said to leave every result unchanged."""
    same = scores(0)
    code = [f"src/kaizen/m{i}.py" for i in range(7)]
    report = R.build(
        inputs(0.85, 0.85, scores={"test": (same, same), "current": (same, same)}, code=code)
    )
    assert "**No changes** against `main`" in report
    assert "The code changed without changing any result." in report
    assert "Code changed: `src/kaizen/m0.py`" in report and "and 2 more." in report


def test_build_respects_the_cap():
    """A tiny cap drops the low-priority sections and says which."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    full = inputs(
        0.7,
        0.9,
        scores={"test": (base, head)},
        curves={("roc", "test"): (roc_points(base), roc_points(head))},
        dag="```mermaid\nflowchart TD\n```",
    )
    full.cap = 1500
    report = R.build(full)
    assert len(report) <= 1500
    assert "Cut to stay under 1,500 characters: pipeline, curves" in report
    assert "xychart-beta" not in report


def with_calibration(metrics: dict, pvalue: float, slope: float) -> dict:
    """A metrics file whose current part carries calibration metrics."""
    values = {"hl_statistic": 30.4, "hl_pvalue": pvalue, "slope": slope, "intercept": -0.2}
    return {**metrics, "current": {**metrics["current"], "calibration": {**values, "ece": 0.02}}}


def calibration_frame() -> pd.DataFrame:
    """Two buckets: the first PD inside its Jeffreys interval, the second outside."""
    return pd.DataFrame(
        {
            "bucket": [1, 2],
            "score_low": [0.01, 0.5],
            "score_high": [0.4, 0.99],
            "n": [100, 100],
            "defaults": [20, 70],
            "mean_pd": [0.2, 0.9],
            "observed_rate": [0.2, 0.7],
            "jeffreys_low": [0.13, 0.6],
            "jeffreys_high": [0.29, 0.78],
            "binom_pvalue": [1.0, 0.0001],
        }
    )


def test_calibration_failure_is_surfaced_next_to_the_auc_verdict():
    """HL p below report.calibration_alpha: the verdict says it fails, right after the AUC."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    values = inputs(
        0.70,
        0.90,
        scores={"current": (base, head)},
        calibration={"current": calibration_frame()},
    )
    values.head_metrics = with_calibration(values.head_metrics, 0.0002, 0.86)
    values.base_metrics = with_calibration(values.base_metrics, 0.3, 0.97)
    report = R.build(values)
    verdict = report.split("\n\n")[1]
    auc = verdict.index("ROC AUC (current, out-of-time)")
    calibration = verdict.index(
        "Calibration (current, out-of-time) **❌ fails: p < 0.05**: Hosmer–Lemeshow 30.4 "
        "(p = 0.0002), slope 0.86, intercept -0.2, ECE 0.02 (base: p = 0.3, slope 0.97)."
    )
    assert auc < calibration
    assert "### Calibration back-test" in report
    assert "| 1 | 0.01–0.4 | 100 | 0.2 | 0.2 | [0.13, 0.29] | 1 | ✅ |" in report
    assert "| 2 | 0.5–0.99 | 100 | 0.9 | 0.7 | [0.6, 0.78] | 0.0001 | ❌ |" in report
    values.settings = R.ReportConfig(calibration_alpha=0.0001)
    assert "**passes: p ≥ 0.0001**" in R.build(values)


def test_significance_says_which_copies_were_paired():
    """Full copies on both sides, or the git copies when the base's full copy is missing."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    values = inputs(0.7, 0.9, scores={"test": (base, head)})
    values.score_sources = {"test": ("full", "full")}
    text = R.significance_section(R.significance(values), values)
    assert "| test, in-time | 0.7883 → 0.9966 | +0.2083 |" in text
    assert "| 400 | significant |" in text
    assert "- test, in-time: paired on every row (full score copies from the DVC cache)." in text
    assert "materiality threshold 0.005 (`report.min_delta_auc`)" in text
    values.score_sources = {"test": ("git", "full")}
    text = R.significance_section(R.significance(values), values)
    assert (
        "full scores of the base not available (not in the local DVC cache nor on a DVC "
        "remote): paired on the git copies of the scores (evenly thinned on large parts)"
    ) in text
