"""Paired bootstrap intervals of a ROC AUC difference on row ids, verdicts and materiality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaizen.reporting import report
from kaizen.reporting import significance as R
from kaizen.pipeline import metrics
from kaizen.pipeline.metrics import roc_auc
from tests.unit.helpers import log_every_step
from tests.unit.reporting.samples import scores


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


def test_paired_interval_shows_progress_by_batch(monkeypatch, caplog):
    """Each batch of resamples is a progress step; the interval is the same as without."""
    base, head = scores(0, noise=1.0), scores(0, noise=0.9)
    args = (base["y"], base["score"], head["score"], 50)
    expected = R.paired_auc_difference(*args, seed=3)
    monkeypatch.setattr(metrics, "BATCH_CELLS", len(base) * 20)  # batches of 20, 20 and 10
    log_every_step(monkeypatch, caplog)
    assert R.paired_auc_difference(*args, seed=3) == expected
    assert caplog.messages == [
        f"paired ROC AUC bootstrap (batches): {done}/3 ({100 * done // 3} %)" for done in (1, 2, 3)
    ]


def test_compare_scores_pairs_on_row():
    """Same rows and labels (in any order): paired; the estimate is the full-sample difference."""
    base, head = scores(0, noise=2.0), scores(0, noise=0.5)
    result = R.compare_scores("test", base.sample(frac=1, random_state=1), head, 300)
    assert result.comparable and result.significant and result.rows == 400
    assert result.difference == pytest.approx(
        roc_auc(head["y"], head["score"]) - roc_auc(base["y"], base["score"])
    )
    assert result.verdict == "significant" and not result.note
    assert "**significant**" in report.interval_sentence(result)
    assert "paired bootstrap on the same 400 rows" in report.interval_sentence(result)


def test_compare_scores_pairs_on_the_common_ids_when_rows_differ():
    """Rows dropped or added (data or split changed): paired on the ids both scored, counted."""
    base = scores(0, noise=1.0)
    head = pd.concat([scores(0, noise=1.0).iloc[50:], scores(9, rows=30, start=2000)])
    result = R.compare_scores("current", base, head, 200)
    assert result.comparable and result.rows == 350
    assert result.note == (
        "rows differ (data or split changed): paired on the 350 rows both revisions scored, "
        "of base 400 and head 380"
    )
    common = base.iloc[50:]
    assert result.auc_base == pytest.approx(roc_auc(common["y"], common["score"]))
    assert result.low == result.high == 0  # identical scores on the common rows
    assert "paired bootstrap; rows differ" in report.interval_sentence(result)


def test_compare_scores_not_comparable_when_labels_differ():
    """Same row ids but other labels (the data changed under the ids): no verdict."""
    base = scores(0)
    head = base.assign(y=np.where(base["row"] <= 10, 1 - base["y"], base["y"]))
    result = R.compare_scores("test", base, head, 100)
    assert not result.comparable and not result.significant
    assert result.verdict == "not comparable"
    assert result.note.startswith("labels differ on 10 of the 400 rows both revisions scored")
    sentence = report.interval_sentence(result)
    assert "**not comparable**: labels differ on 10" in sentence and "CI" not in sentence


def test_compare_scores_not_comparable_without_common_rows():
    """Disjoint row ids: nothing to pair."""
    result = R.compare_scores("test", scores(0), scores(1, start=5000), 100)
    assert not result.comparable and result.rows == 0
    assert result.note == "no row scored by both revisions"


def test_materiality_threshold():
    """A significant difference below min_delta says so; at or above it is plainly significant."""
    base, head = scores(0, noise=1.0, rows=4000), scores(0, noise=0.97, rows=4000)
    small = R.compare_scores("test", base, head, 300, min_delta=0.05)
    assert small.significant and abs(small.difference) < 0.05
    assert small.verdict == "significant, below the materiality threshold"
    assert "below the materiality threshold (0.05)" in report.interval_sentence(small)
    large = R.compare_scores("test", base, head, 300, min_delta=0.0)
    assert large.verdict == "significant"
