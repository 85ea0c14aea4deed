"""Is a ROC AUC difference between two revisions real? Bootstrap intervals on per-row scores.

Paired (rows resampled jointly) when both revisions scored the same rows with the same labels,
which removes the between-sample noise; otherwise independent bootstraps of each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kaizen.metrics import ResampledAuc, batches, percentile_interval, resample_counts, roc_auc

BOOTSTRAP = 2000  # resamples for the ROC AUC difference
SEED = 42
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:  # pylint: disable=too-many-instance-attributes
    """Head minus base ROC AUC, with its bootstrap interval."""

    part: str
    rows_base: int
    rows_head: int
    auc_base: float
    auc_head: float
    low: float
    high: float
    paired: bool
    note: str = ""

    @property
    def difference(self) -> float:
        """Head minus base, on all rows."""
        return self.auc_head - self.auc_base

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0 or self.high < 0


def paired_auc_difference(
    y, base, head, n_resamples: int = BOOTSTRAP, seed: int = SEED
) -> tuple[float, float]:
    """Percentile interval of AUC(head) - AUC(base), resampling rows jointly (same labels)."""
    y, base, head = np.asarray(y), np.asarray(base), np.asarray(head)
    rng = np.random.default_rng(seed)
    auc_head, auc_base = ResampledAuc(y, head), ResampledAuc(y, base)
    values = []
    for size in batches(len(y), n_resamples):
        counts = resample_counts(rng, len(y), size)
        values.extend(auc_head(counts) - auc_base(counts))
    return percentile_interval(values, LEVEL)


def unpaired_auc_difference(
    y_base, base, y_head, head, *, n_resamples: int = BOOTSTRAP, seed: int = SEED
) -> tuple[float, float]:
    """Percentile interval of AUC(head) - AUC(base) from independent bootstraps of each side."""
    rng = np.random.default_rng(seed)
    auc_head, auc_base = ResampledAuc(y_head, head), ResampledAuc(y_base, base)
    values = []
    for size in batches(max(len(y_base), len(y_head)), n_resamples):
        base_counts = resample_counts(rng, len(y_base), size)
        head_counts = resample_counts(rng, len(y_head), size)
        values.extend(auc_head(head_counts) - auc_base(base_counts))
    return percentile_interval(values, LEVEL)


def compare_scores(
    part: str, base: pd.DataFrame, head: pd.DataFrame, n_resamples: int = BOOTSTRAP
) -> Interval:
    """Paired interval when both sides scored the same rows with the same labels, else unpaired.

    Frames hold the columns `row`, `y`, `score` written by evaluate.
    """
    base = base.set_index("row").sort_index()
    head = head.set_index("row").sort_index()
    common = base.index.intersection(head.index)
    same_rows = len(common) == len(base) == len(head)
    mismatched = int((base.loc[common, "y"] != head.loc[common, "y"]).sum())
    common_args: dict[str, Any] = {
        "part": part,
        "rows_base": len(base),
        "rows_head": len(head),
        "auc_base": roc_auc(base["y"], base["score"]),
        "auc_head": roc_auc(head["y"], head["score"]),
    }
    if same_rows and not mismatched:
        low, high = paired_auc_difference(
            head["y"], base.loc[head.index, "score"], head["score"], n_resamples
        )
        return Interval(**common_args, low=low, high=high, paired=True)
    if not same_rows:
        note = (
            f"rows differ: base {len(base):,}, head {len(head):,}, {len(common):,} in common "
            "(data or split changed)"
        )
    else:
        note = f"labels differ on {mismatched:,} of the {len(common):,} rows (data changed)"
    low, high = unpaired_auc_difference(
        base["y"], base["score"], head["y"], head["score"], n_resamples=n_resamples
    )
    return Interval(**common_args, low=low, high=high, paired=False, note=note)
