"""Is a ROC AUC difference between two revisions real? Bootstrap intervals on per-row scores.

Paired on row ids (rows resampled jointly) over the rows both revisions scored, which removes
the between-sample noise; when the same id carries another label the data changed under the ids,
and the two AUCs are "not comparable". A significant difference smaller than the materiality
threshold (`report.min_delta_auc`) is said to be so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kaizen import progress
from kaizen.pipeline.metrics import (
    ResampledAuc,
    batches,
    percentile_interval,
    resample_counts,
    roc_auc,
)

BOOTSTRAP = 2000  # resamples for the ROC AUC difference
SEED = 42
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:  # pylint: disable=too-many-instance-attributes
    """Head minus base ROC AUC on the rows both revisions scored, with its bootstrap interval."""

    part: str
    rows_base: int
    rows_head: int
    rows: int  # rows paired: scored by both revisions
    auc_base: float  # on the paired rows (each side's own rows when not comparable)
    auc_head: float
    low: float
    high: float
    min_delta: float = 0.0  # materiality threshold of |difference|
    comparable: bool = True
    note: str = ""

    @property
    def difference(self) -> float:
        """Head minus base, on the paired rows."""
        return self.auc_head - self.auc_base

    @property
    def significant(self) -> bool:
        """Comparable, and the interval excludes 0."""
        return self.comparable and (self.low > 0 or self.high < 0)

    @property
    def verdict(self) -> str:
        """not comparable / significant / significant, below the materiality threshold / not
        significant."""
        if not self.comparable:
            return "not comparable"
        if not self.significant:
            return "not significant"
        if abs(self.difference) < self.min_delta:
            return "significant, below the materiality threshold"
        return "significant"


def paired_auc_difference(
    y, base, head, n_resamples: int = BOOTSTRAP, seed: int = SEED
) -> tuple[float, float]:
    """Percentile interval of AUC(head) - AUC(base), resampling rows jointly (same labels)."""
    y, base, head = np.asarray(y), np.asarray(base), np.asarray(head)
    rng = np.random.default_rng(seed)
    auc_head, auc_base = ResampledAuc(y, head), ResampledAuc(y, base)
    values = []
    sizes = batches(len(y), n_resamples)
    for size in progress.steps(sizes, len(sizes), "paired ROC AUC bootstrap (batches)"):
        counts = resample_counts(rng, len(y), size)
        values.extend(auc_head(counts) - auc_base(counts))
    return percentile_interval(values, LEVEL)


def compare_scores(
    part: str,
    base: pd.DataFrame,
    head: pd.DataFrame,
    n_resamples: int = BOOTSTRAP,
    min_delta: float = 0.0,
) -> Interval:
    """Paired interval on the row ids both sides scored; "not comparable" when none are shared
    or when a shared id has another label (the data changed under the ids).

    Frames hold the columns `row` (the raw data row: a stable id), `y`, `score`.
    """
    base = base.set_index("row").sort_index()
    head = head.set_index("row").sort_index()
    common = base.index.intersection(head.index)
    mismatched = int((base.loc[common, "y"] != head.loc[common, "y"]).sum())
    sizes: dict[str, Any] = {"part": part, "rows_base": len(base), "rows_head": len(head)}
    if len(common) == 0 or mismatched:
        note = (
            f"labels differ on {mismatched:,} of the {len(common):,} rows both revisions scored "
            "(the data changed under the row ids)"
            if mismatched
            else "no row scored by both revisions"
        )
        return Interval(
            **sizes,
            rows=len(common),
            auc_base=roc_auc(base["y"], base["score"]),
            auc_head=roc_auc(head["y"], head["score"]),
            low=float("nan"),
            high=float("nan"),
            min_delta=min_delta,
            comparable=False,
            note=note,
        )
    y = head.loc[common, "y"]
    pair = base.loc[common, "score"], head.loc[common, "score"]
    low, high = paired_auc_difference(y, pair[0], pair[1], n_resamples)
    note = ""
    if not len(common) == len(base) == len(head):
        note = (
            f"rows differ (data or split changed): paired on the {len(common):,} rows both "
            f"revisions scored, of base {len(base):,} and head {len(head):,}"
        )
    return Interval(
        **sizes,
        rows=len(common),
        auc_base=roc_auc(y, pair[0]),
        auc_head=roc_auc(y, pair[1]),
        low=low,
        high=high,
        min_delta=min_delta,
        note=note,
    )
