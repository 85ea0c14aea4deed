"""Engineered ratio features, `numerator / denominator` columns: computed by the fitted
pipeline's first step (`features.RatioFeatures`) and, with the same function, by the monitor,
which reads the ratios from bundle.json and never unpickles the model (nor imports
scikit-learn)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

Ratio = tuple[str, str, str]  # (name, numerator, denominator)


def ratios_of(pipeline: Any) -> tuple[Ratio, ...]:
    """The ratios of a fitted pipeline's `features` step (none for anything else)."""
    step = dict(getattr(pipeline, "steps", ())).get("features")
    return tuple((name, top, bottom) for name, top, bottom in getattr(step, "ratios", ()))


def append_ratios(frame: pd.DataFrame, ratios: Iterable[Ratio]) -> pd.DataFrame:
    """A copy of `frame` with one column per ratio (a zero or missing denominator gives NaN),
    and every missing text value (None from JSON or MLflow, pd.NA) written as NaN, the one
    marker the imputers treat as missing."""
    added = {}
    for name in frame.columns[frame.dtypes == object]:
        values = frame[name].to_numpy()
        missing = pd.isna(values)
        if missing.any():
            cleaned = np.where(missing, np.nan, values)
            added[name] = pd.Series(cleaned, index=frame.index, dtype=object)
    for name, numerator, denominator in ratios:
        num, den = floats(frame[numerator]), floats(frame[denominator])
        with np.errstate(divide="ignore", invalid="ignore"):
            added[name] = np.where(den != 0, num / den, np.nan)
    return frame.assign(**added)  # numpy columns: pandas' arithmetic costs more than it does


def with_ratios(frame: pd.DataFrame, ratios: Iterable[Ratio]) -> tuple[pd.DataFrame, list[str]]:
    """`frame` with the ratio columns appended, and their names (monitored like any numeric
    input: a ratio can drift while both its columns look stable); `frame` itself when there
    are none."""
    ratios = tuple(ratios)
    if not ratios:
        return frame, []
    return append_ratios(frame, ratios), [name for name, _, _ in ratios]


def floats(values: pd.Series) -> np.ndarray:
    """A column as float64 (text that does not parse as NaN)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
