"""Paired and unpaired bootstrap intervals of a ROC AUC difference."""

from __future__ import annotations

import pytest

from kaizen import report
from kaizen import significance as R
from kaizen.metrics import roc_auc
from tests.unit.reporting import scores


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
    assert "significant" in report.interval_sentence(result)
    assert "paired bootstrap on the same 400 rows" in report.interval_sentence(result)


def test_compare_scores_falls_back_to_unpaired_when_rows_differ():
    """Dropped rows: unpaired bootstraps, and the note says why."""
    base, head = scores(0, noise=1.0), scores(0, noise=1.0).iloc[50:]
    result = R.compare_scores("current", base, head, 200)
    assert not result.paired
    assert "rows differ: base 400, head 350, 350 in common (data or split changed)" in result.note
    assert result.low < 0 < result.high
    assert "unpaired bootstraps; rows differ" in report.interval_sentence(result)


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
    low, high = R.unpaired_auc_difference(
        base["y"], base["score"], head["y"], head["score"], n_resamples=300
    )
    assert 0 < low < high


# --- charts ------------------------------------------------------------------------------------
