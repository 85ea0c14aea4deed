"""Protected groups: which group each applicant belongs to, for every declared attribute.

A categorical attribute gives one group per value; a numeric one is cut at its `bands` (left
closed: [25, 62] gives <25, 25 to <62 and >=62, so that 62-year-olds, "elderly" under ECOA,
fall in the last group). A missing value is a group of its own ("missing"): dropping those rows
would hide whoever they are. The reference group, against which adverse impact is measured, is
the largest group of the test split unless params name one.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from kaizen import KaizenError
from kaizen.fairness.params import FairnessConfig, Protected
from kaizen.pipeline.model import excluded_inputs, usable_ratios
from kaizen.pipeline.data import Schema
from kaizen.config import TrainConfig

MISSING = "missing"


log = logging.getLogger(__name__)


def _number(value: float) -> str:
    """25.0 -> '25', 2.5 -> '2.5'."""
    return f"{value:g}"


def band_labels(bands: list[float]) -> list[str]:
    """Group names of the cut points, in order: <a, a to <b, ..., >=z."""
    inner = [f"{_number(a)} to <{_number(b)}" for a, b in zip(bands, bands[1:])]
    return [f"<{_number(bands[0])}", *inner, f">={_number(bands[-1])}"]


def assign(values: pd.Series, spec: Protected, source: str) -> pd.Series:
    """Each row's group label for one attribute (object dtype, index kept)."""
    if spec.bands is None:
        labels = values.astype(object).where(values.notna(), MISSING).astype(str)
        return labels.astype(object)
    numbers = pd.to_numeric(values, errors="coerce")
    if int((numbers.isna() & values.notna()).sum()):
        raise KaizenError(
            f"{source}: fairness.protected: column {spec.column!r} has bands but non-numeric values"
        )
    codes = np.searchsorted(np.asarray(spec.bands, dtype="float64"), numbers, side="right")
    names = np.asarray(band_labels(spec.bands), dtype=object)
    labels = np.where(numbers.isna(), MISSING, names[np.minimum(codes, len(names) - 1)])
    return pd.Series(labels, index=values.index, dtype=object)


def check_columns(
    columns: list[str], config: FairnessConfig, source: str, excluded: tuple[str, ...] = ()
) -> FairnessConfig:
    """The declared attributes the data has; each declared (or excluded) column it lacks is
    named in a warning, not an error: a column that is not in the data can neither be used by
    the model nor analysed, and a team that brings its own data (without the default data's Age
    and Marital) must not see training fail. Declare the data's own attributes in params.yaml."""
    absent = [spec.column for spec in config.protected if spec.column not in columns]
    for name in absent:
        log.warning(
            "%s: fairness.protected: column %r is not in the data: not analysed (declare this "
            "data's protected attributes in params.yaml)",
            source,
            name,
        )
    for name in excluded:
        if name not in columns and name not in absent:
            log.warning("%s: train.excluded: column %r is not in the data", source, name)
    kept = [spec for spec in config.protected if spec.column in columns]
    return config.model_copy(update={"protected": kept})


def reference_group(groups: pd.Series, spec: Protected) -> str:
    """The named reference group, else the largest (ties: the first in label order)."""
    counts = groups.value_counts()
    if spec.reference is not None:
        if spec.reference not in counts.index:
            raise KaizenError(
                f"params.yaml: fairness.protected: {spec.column}: reference group "
                f"{spec.reference!r} is not among the groups {sorted(counts.index)}"
            )
        return spec.reference
    largest = counts[counts == counts.max()].index
    return str(sorted(largest)[0])


def protected_inputs(schema: Schema, train: TrainConfig, config: FairnessConfig) -> list[str]:
    """The declared protected columns and the engineered ratios built from one: never a reason
    code, and out of the model with `train.exclude_protected`."""
    ratios, _ = usable_ratios(schema, train)
    return sorted(excluded_inputs(tuple(config.columns), ratios))
