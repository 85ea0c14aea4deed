"""Feature engineering and outlier handling as scikit-learn transformers (fitted, then served)."""

# scikit-learn conventions: fitted attributes are set in fit(), not __init__.
# pylint: disable=attribute-defined-outside-init

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, OneToOneFeatureMixin
from sklearn.utils.validation import check_is_fitted

from kaizen import KaizenError
from kaizen.config import OutliersConfig
from kaizen.pipeline.ratios import append_ratios
from kaizen.pipeline.data import Schema


class RatioFeatures(TransformerMixin, BaseEstimator):
    """Append `numerator / denominator` columns; a zero or missing denominator gives NaN.

    As the pipeline's first step it also writes every missing text value (None from JSON or
    MLflow, pd.NA) as NaN, the one marker the imputers treat as missing."""

    def __init__(self, ratios: tuple[tuple[str, str, str], ...] = ()):
        self.ratios = ratios

    def fit(self, X: pd.DataFrame, y=None):  # pylint: disable=unused-argument
        """Record the input columns."""
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of X with one column per ratio."""
        check_is_fitted(self)
        return append_ratios(X, self.ratios)

    def get_feature_names_out(self, input_features=None):  # pylint: disable=unused-argument
        """Input names plus the ratio names."""
        return np.asarray(
            list(self.feature_names_in_) + [name for name, _, _ in self.ratios], dtype=object
        )


class QuantileClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each numeric column to its training [lower, upper] quantiles (NaN kept)."""

    def __init__(self, lower: float = 0.01, upper: float = 0.99):
        self.lower = lower
        self.upper = upper

    def fit(self, X, y=None):  # pylint: disable=unused-argument
        """Learn per-column bounds, ignoring missing values."""
        values = np.asarray(X, dtype="float64")
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = values.shape[1]
        self.low_ = np.nanquantile(values, self.lower, axis=0) if len(values) else None
        self.high_ = np.nanquantile(values, self.upper, axis=0) if len(values) else None
        return self

    def transform(self, X):
        """Clip to the learned bounds."""
        check_is_fitted(self, ["low_", "high_"])
        values = np.asarray(X, dtype="float64")
        return np.clip(values, self.low_, self.high_)


def outlier_rows(frame: pd.DataFrame, columns: list[str], lower: float, upper: float) -> pd.Series:
    """Boolean mask of rows with any value outside the [lower, upper] column quantiles."""
    if not columns:
        return pd.Series(False, index=frame.index)
    values = frame[columns].astype("float64")
    low = values.quantile(lower)
    high = values.quantile(upper)
    return ((values < low) | (values > high)).any(axis=1)


def remove_outliers(
    frame: pd.DataFrame, schema: Schema, config: OutliersConfig
) -> tuple[pd.DataFrame, int]:
    """With `train.outliers.method: remove`, the rows without outliers and how many went."""
    if config.method != "remove":
        return frame, 0
    mask = outlier_rows(frame, schema.numeric, config.lower, config.upper)
    kept = frame.loc[~mask]
    if kept[schema.target].nunique() < 2:
        raise KaizenError("params.yaml: train.outliers: removing outliers left a single class")
    return kept, int(mask.sum())
