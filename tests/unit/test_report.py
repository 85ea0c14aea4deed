"""The pull-request report's pure parts: directions, significance, charts, sections, size cap."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kaizen.metrics import flatten
from kaizen import report as R
from kaizen.metrics import roc_auc

RNG_ROWS = 400


def scores(seed: int = 0, rows: int = RNG_ROWS, noise: float = 1.0, start: int = 1):
    """A `row,y,score` frame: score = label + noise (less noise = better model)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    score = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, noise, rows))))
    return pd.DataFrame({"row": np.arange(start, start + rows), "y": y, "score": score})


def metrics_file(auc: float) -> dict:
    """A minimal evaluate metrics.json."""
    part = {"rows": RNG_ROWS, "roc_auc": auc, "roc_auc_low": auc - 0.02, "roc_auc_high": auc + 0.02}
    return {"threshold": 0.2, "test": dict(part), "current": dict(part)}


def roc_points(frame: pd.DataFrame) -> list[dict]:
    """dvclive-like ROC points of a scores frame."""
    order = frame.sort_values("score", ascending=False)
    tpr = np.r_[0, np.cumsum(order["y"]) / order["y"].sum()]
    fpr = np.r_[0, np.cumsum(1 - order["y"]) / (1 - order["y"]).sum()]
    return [{"fpr": f, "tpr": t, "threshold": None} for f, t in zip(fpr, tpr)]


def pr_points(frame: pd.DataFrame) -> list[dict]:
    """dvclive-like precision-recall points of a scores frame."""
    order = frame.sort_values("score", ascending=False)
    hits = np.cumsum(order["y"])
    ranks = np.arange(1, len(order) + 1)
    return [
        {"precision": p, "recall": r, "threshold": 0.5}
        for p, r in zip(hits / ranks, hits / order["y"].sum())
    ]


DRIFT = {
    "verdict": "drift",
    "rows_reference": 2477,
    "rows_current": 1975,
    "features_total": 13,
    "features_drift": 1,
    "features_warning": 1,
    "drifted_share": 1 / 13,
    "score_psi": 0.031,
    "score_verdict": "stable",
    "target_rate_reference": 0.2814,
    "target_rate_current": 0.2815,
    "psi": {"Expenses": 0.40, "Age": 0.01},
}


def drift_feature(name: str, psi: float, verdict: str, kind: str = "numeric") -> dict:
    """One entry of features.json, as the drift stage writes it."""
    numeric = kind == "numeric"
    return {
        "feature": name,
        "kind": kind,
        "psi": psi,
        "test": "ks" if numeric else "chi2",
        "p_value": 1e-9 if verdict == "drift" else 0.4,
        "distance": 0.2,
        "distance_name": "wasserstein" if numeric else "jensen-shannon",
        "missing_reference": 0.0,
        "missing_current": 0.01,
        "missing_change": 0.01,
        "unseen": [] if numeric else ["new_level"],
        "verdict": verdict,
        "method": "psi",
    }


FEATURES = [drift_feature("Expenses", 0.40, "drift"), drift_feature("Home", 0.12, "warning", "cat")]
FEATURES += [drift_feature(f"f{i}", 0.01, "stable") for i in range(11)]


def diff_of(base: dict | None, head: dict) -> dict:
    """dvc-metrics-diff-like {metric: {old, new}} of two metrics files."""
    old = flatten(base or {})
    return {name: {"old": old.get(name), "new": value} for name, value in flatten(head).items()}


def inputs(base_auc: float | None, head_auc: float, **extra) -> R.Inputs:
    """Report inputs with evaluate metrics (and no scores unless given)."""
    base = metrics_file(base_auc) if base_auc is not None else None
    head = metrics_file(head_auc)
    values = {
        "base_label": "main",
        "head_label": "workspace",
        "metrics_diff": {R.EVALUATE: diff_of(base, head)},
        "base_metrics": base,
        "head_metrics": head,
        "bootstrap": 200,
    }
    values.update(extra)
    return R.Inputs(**values)


# --- numbers and directions --------------------------------------------------------------------


def test_mark_follows_direction():
    """An improvement is ✅ whichever way the metric points; no change or neutral is –."""
    assert R.mark("current.roc_auc", 0.80, 0.82) == "✅"
    assert R.mark("current.roc_auc", 0.82, 0.80) == "❌"
    assert R.mark("current.brier", 0.14, 0.13) == "✅"
    assert R.mark("current.fn", 20, 25) == "❌"
    assert R.mark("current.rows", 100, 200) == "–"
    assert R.mark("current.roc_auc", 0.8, 0.8) == "–"
    assert R.mark("current.roc_auc", None, 0.8) == "–"


def test_fmt():
    """Short numbers: 4 decimals, thousands separators, signs on request, dash for missing."""
    assert R.fmt(0.838372) == "0.8384"
    assert R.fmt(1975) == "1,975"
    assert R.fmt(0.006, signed=True) == "+0.006"
    assert R.fmt(-3, signed=True) == "-3"
    assert R.fmt(0, signed=True) == "0"
    assert R.fmt(0.00001234) == "1.2e-05"
    assert R.fmt(None) == "–"
    assert R.fmt("psi") == "psi"


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


# --- significance ------------------------------------------------------------------------------


def test_paired_interval_excludes_zero_when_head_is_clearly_better():
    """Same labels, head much less noisy: the whole interval lies above 0."""
    base = scores(0, noise=2.0)
    better = scores(0, noise=0.5)
    low, high = R.paired_auc_difference(base["y"], base["score"], better["score"], 300)
    assert 0 < low < high


def test_paired_interval_of_identical_scores_is_zero():
    """Identical scores: every resample differs by exactly 0, so the interval includes 0."""
    base = scores(0)
    low, high = R.paired_auc_difference(base["y"], base["score"], base["score"], 100)
    assert low == high == 0


def test_paired_interval_is_seeded():
    """Same seed, same interval."""
    base, head = scores(0, noise=1.0), scores(0, noise=0.9)
    first = R.paired_auc_difference(base["y"], base["score"], head["score"], 100, seed=7)
    assert first == R.paired_auc_difference(base["y"], base["score"], head["score"], 100, seed=7)


def test_compare_scores_pairs_on_row():
    """Same rows and labels (in any order): paired; the estimate is the full-sample difference."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    result = R.compare_scores("test", base.sample(frac=1, random_state=1), head, 300)
    assert result.paired and result.significant
    assert result.difference == pytest.approx(
        roc_auc(head["y"], head["score"]) - roc_auc(base["y"], base["score"])
    )
    assert "significant" in R.interval_sentence(result)
    assert "paired bootstrap on the same 400 rows" in R.interval_sentence(result)


def test_compare_scores_falls_back_to_unpaired_when_rows_differ():
    """Dropped rows: unpaired bootstraps, and the note says why."""
    base, head = scores(0, noise=1.0), scores(0, noise=1.0).iloc[50:]
    result = R.compare_scores("current", base, head, 200)
    assert not result.paired
    assert "rows differ: base 400, head 350, 350 in common (data or split changed)" in result.note
    assert result.low < 0 < result.high
    assert "unpaired bootstraps; rows differ" in R.interval_sentence(result)


def test_compare_scores_falls_back_to_unpaired_when_labels_differ():
    """Same row numbers but other labels (data edited): unpaired."""
    base = scores(0)
    head = base.assign(y=1 - base["y"])
    result = R.compare_scores("test", base, head, 100)
    assert not result.paired
    assert result.note.startswith("labels differ on 400 of the 400 rows")


def test_unpaired_interval_excludes_zero_for_a_large_gain():
    """Independent samples, a much better head: the interval still lies above 0."""
    base, head = scores(0, noise=3.0), scores(1, noise=0.3, start=1000)
    low, high = R.unpaired_auc_difference(base["y"], base["score"], head["y"], head["score"], 300)
    assert 0 < low < high


# --- charts ------------------------------------------------------------------------------------


def test_roc_on_grid_is_a_monotone_curve_from_0_to_1():
    """21 points, non-decreasing, ending at 1."""
    values = R.roc_on_grid(roc_points(scores(0)))
    assert len(values) == R.GRID
    assert np.all(np.diff(values) >= 0)
    assert values[-1] == 1.0


def test_pr_on_grid_is_interpolated_precision():
    """Interpolated precision: the best precision at recall >= r, so it never increases."""
    points = pr_points(scores(0))
    values = R.pr_on_grid(points)
    assert len(values) == R.GRID
    assert np.all(np.diff(values) <= 1e-12)
    assert values[0] == 1.0
    assert values[-1] == max(p["precision"] for p in points if p["recall"] == 1.0)
    assert values[10] == max(p["precision"] for p in points if p["recall"] >= 0.5)


def test_mermaid_chart_syntax():
    """A fenced xychart-beta with a colour per line, fixed axes, and one `line` per series."""
    chart = R.mermaid_lines("ROC, test", "fpr", "tpr", {"base": [0, 0.5, 1], "head": [0, 0.7, 1]})
    lines = chart.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert lines[1].startswith("%%{init:") and "#9e9e9e, #1f77b4" in lines[1]
    assert lines[2] == "xychart-beta"
    assert 'title "ROC, test"' in chart
    assert 'x-axis "fpr" 0 --> 1' in chart and 'y-axis "tpr" 0 --> 1' in chart
    assert re.findall(r"line \[(.*)\]", chart) == ["0.000, 0.500, 1.000", "0.000, 0.700, 1.000"]


def test_curve_charts_base_vs_head():
    """ROC (with chance line) and PR per part; test curves are collapsed under current."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    curves = {
        (kind, part): (make(base), make(head))
        for kind, make in (("roc", roc_points), ("precision_recall", pr_points))
        for part in ("test", "current")
    }
    text = R.curve_charts(curves)
    assert text.count("xychart-beta") == 4
    assert text.count("    line [") == 2 * 3 + 2 * 2
    assert text.index('"ROC, current, out-of-time"') < text.index("<details>")
    assert "first report" not in text


def test_curve_charts_without_base():
    """First report: head lines only, and the legend says so."""
    head = scores(0)
    text = R.curve_charts({("roc", "current"): (None, roc_points(head))})
    assert text.count("    line [") == 2  # head + chance
    assert "no base curve: first report" in text
    assert R.curve_charts({}) == ""


# --- drift and data change ---------------------------------------------------------------------


def test_drift_section_from_contract_files():
    """Dataset verdict, score drift, target rate, and the top features in severity order."""
    text = R.drift_section(DRIFT, FEATURES, {"verdict": "stable"})
    assert "**Dataset drift: 🔴 drift** (base: stable)" in text
    assert "1 drifted, 1 warning, of 13" in text
    assert "model score: PSI 0.031, stable" in text
    assert "target rate: 0.2814 (reference) → 0.2815 (current)" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + R.TOP_FEATURES  # header + top rows
    assert table[1].startswith("| Expenses | numeric | 0.4 | ks | 1e-09 | 0.2 (wasserstein)")
    assert "new_level" in table[2] and "🟠 warning" in table[2]
    assert "3 more feature(s), less severe: 3 stable." in text


def test_drift_section_missing():
    """No drift files yet: the section says so."""
    assert "Drift analysis not available" in R.drift_section(None, None)


def test_data_change_on_two_frames():
    """Rows, added/removed columns, type changes and target rate between two raw frames."""
    base = pd.DataFrame(
        {"Status": ["good", "bad", "good", "good"], "Age": ["30", "41", "22", "50"],
         "Home": ["rent", "own", "rent", "own"], "Old": ["1", "2", "3", "4"]}
    )  # fmt: skip
    head = pd.DataFrame(
        {"Status": ["good", "bad", "bad"], "Age": ["30", "?x", "n/a"],
         "Home": ["rent", "own", "rent"], "New": ["a", "b", "c"]}
    )  # fmt: skip
    change = R.data_change("data/raw/credit.csv", base, head, "Status", "bad")
    assert (change.rows_base, change.rows_head) == (4, 3)
    assert change.added == ["New"] and change.removed == ["Old"]
    assert change.retyped == {"Age": ("numeric", "categorical")}
    assert change.rate_base == 0.25 and change.rate_head == pytest.approx(2 / 3)
    text = R.data_change_section(change)
    assert "rows 4 → 3 (-1)" in text
    assert "- columns added: New" in text and "- columns removed: Old" in text
    assert "- type changes: Age (numeric → categorical)" in text
    assert "- target rate: 0.25 → 0.6667" in text


def test_data_change_new_file_and_bad_target():
    """A file new in head; a target that is not there gives no rate."""
    head = pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"]})
    change = R.data_change("d.csv", None, head, "Status", "bad")
    assert change.rows_base is None and change.rate_head is None
    assert "is new in head: 2 rows" in R.data_change_section(change)


# --- assembly ----------------------------------------------------------------------------------


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
