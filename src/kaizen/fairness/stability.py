"""Reason-code stability: would a refused applicant get the same principal reason from a model
trained on a slightly different sample?

The train split is resampled with replacement (seeded) `stability_refits` times; each resample
is fitted with exactly the production train config, and each refit's explainer (same method,
same protected filter) gives the top reason of every applicant the production model refuses on
the test split. The figure is the share of those applicants whose top reason differs from the
production model's, averaged over refits, with the 2.5-97.5 % range across refits. Reasons that
flip under resampling are noise a notice should not be built on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kaizen import KaizenError, progress
from kaizen.bundle.reasons import Explainer
from kaizen.config import TrainConfig
from kaizen.pipeline import model as M
from kaizen.pipeline.data import Schema


def top_reason(explainer: Explainer, features: pd.DataFrame) -> np.ndarray:
    """Each row's largest positive contribution's feature ('' when none is positive)."""
    values = explainer.contributions(features).to_numpy()
    names = np.asarray(explainer.inputs, dtype=object)
    if values.shape[1] == 0:
        return np.full(len(features), "", dtype=object)
    best = np.argmax(values, axis=1)
    positive = values[np.arange(len(values)), best] > 0
    return np.where(positive, names[best], "")


def stability(  # pylint: disable=too-many-arguments,too-many-positional-arguments
    train: pd.DataFrame,
    refused: pd.DataFrame,
    schema: Schema,
    config: TrainConfig,
    production: Explainer,
    refits: int,
    seed: int,
) -> dict[str, Any]:
    """Share of refused applicants whose top reason changes under bootstrap refits."""
    out: dict[str, Any] = {
        "method": production.method,
        "refits": refits,
        "refused": len(refused),
    }
    if not refits or refused.empty:
        return {**out, "changed_share": None}
    base = top_reason(production, refused[schema.features])
    protected = production.reference.get("protected", [])
    rng = np.random.default_rng(seed)
    shares = []
    skipped = 0
    for _ in progress.steps(range(refits), refits, "reason-stability refits"):
        sample = train.iloc[rng.integers(0, len(train), len(train))]
        if sample[schema.target].nunique() < 2:
            skipped += 1
            continue
        try:  # a resample too small to fit (recalibration's inner folds) is counted, not fatal
            fitted = M.train(sample, schema, config)
        except KaizenError:
            skipped += 1
            continue
        again = Explainer(fitted.pipeline, {**fitted.reference, "protected": protected})
        shares.append(float(np.mean(top_reason(again, refused[schema.features]) != base)))
    low, high = np.quantile(shares, [0.025, 0.975]) if shares else (np.nan, np.nan)
    return {
        **out,
        "changed_share": round(float(np.mean(shares)), 4) if shares else None,
        "changed_low": round(float(low), 4) if shares else None,
        "changed_high": round(float(high), 4) if shares else None,
        "per_refit": [round(s, 4) for s in shares],
        "refits_skipped": skipped,
    }
