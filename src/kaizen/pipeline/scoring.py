"""The one scoring path of a fitted pipeline (evaluate, drift, predict, the API, the monitor):
its `predict_proba`, with the categorical branch of its preprocessing run once per distinct
combination of values. Importing this module does not import scikit-learn (`kaizen predict`
reads its input while the model's unpickling imports it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline


def score(pipeline: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """Probability of default per row: the one scoring path (evaluate, drift, predict, the API,
    the monitor). The pipeline's `predict_proba`, with its preprocessing run by `encode`."""
    return probability(pipeline, prepared(pipeline, features)[1])


def prepared(pipeline: Pipeline, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The model inputs (raw columns and ratios) and the preprocessed matrix."""
    inputs = pipeline.named_steps["features"].transform(features)
    return inputs, encode(pipeline.named_steps["prep"], inputs)


def probability(pipeline: Pipeline, encoded: np.ndarray) -> np.ndarray:
    """The estimator's probability of default for a preprocessed matrix."""
    return pipeline[2:].predict_proba(encoded)[:, 1]


def encode(prep: ColumnTransformer, inputs: pd.DataFrame) -> np.ndarray:
    """`prep.transform(inputs)`, with the categorical branch run once per distinct combination of
    its columns' values instead of once per row: its imputer (a constant) and one-hot encoder
    treat each row alone, so the result is identical, and applications share few combinations
    (141 in 100,000 rows: that branch's per-value Python work is most of the preprocessing).
    A step that is not a ColumnTransformer (the scorecard's binning) is run as it is."""
    if not hasattr(prep, "transformers_") or prep.sparse_output_:
        return prep.transform(inputs)
    parts = []
    for name, transformer, columns in prep.transformers_:
        if isinstance(transformer, str) and transformer == "drop" or len(columns) == 0:
            continue
        if isinstance(transformer, str):  # passthrough: not the pipeline train builds
            return prep.transform(inputs)
        block = inputs[list(columns)]
        if name != "cat" or len(block) < 2:
            parts.append(transformer.transform(block))
            continue
        combination, rows = combinations(block)
        parts.append(transformer.transform(block.iloc[rows])[combination])
    if not all(isinstance(part, np.ndarray) for part in parts):  # e.g. pandas output configured
        return prep.transform(inputs)
    return np.hstack(parts)


def combinations(block: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of its combination of values (missing counts as a value), and one
    row holding each combination. Categorical columns (as `data.coerce_features` types them)
    are combined from their integer codes; other columns are grouped by value."""
    sizes = [
        len(dtype.categories) + 1
        for dtype in block.dtypes
        if isinstance(dtype, pd.CategoricalDtype)
    ]
    if len(sizes) == block.shape[1] and np.prod(sizes, dtype=float) < 2**62:
        key = np.zeros(len(block), dtype=np.int64)
        for name, size in zip(block.columns, sizes):
            key = key * size + block[name].cat.codes.to_numpy() + 1
        combination, _ = pd.factorize(key)
    else:
        combination = block.groupby(list(block.columns), dropna=False, sort=False).ngroup()
        combination = combination.to_numpy()
    rows = np.empty(combination.max() + 1, dtype=np.int64)
    rows[combination] = np.arange(len(block))  # any row of a combination holds its values
    return combination, rows
