"""Ratio features, quantile clipping and outlier rows."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from kaizen.pipeline.features import QuantileClipper, RatioFeatures, outlier_rows


def test_ratio_features_values_and_zero_denominator():
    """num / den, with NaN for a zero or missing denominator."""
    frame = pd.DataFrame({"Debt": [10.0, 5.0, 3.0, 1.0], "Income": [20.0, 0.0, np.nan, 4.0]})
    transformer = RatioFeatures((("dti", "Debt", "Income"),)).fit(frame)
    out = transformer.transform(frame)
    assert list(out.columns) == ["Debt", "Income", "dti"]
    np.testing.assert_array_equal(out["dti"].to_numpy(), [0.5, np.nan, np.nan, 0.25])
    assert "dti" not in frame.columns  # input not modified
    assert list(transformer.get_feature_names_out()) == ["Debt", "Income", "dti"]


def test_ratio_features_without_ratios_is_identity():
    """No ratios: the frame passes through unchanged."""
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    out = RatioFeatures().fit(frame).transform(frame)
    pd.testing.assert_frame_equal(out, frame)


def test_ratio_features_not_fitted():
    """transform before fit is refused."""
    with pytest.raises(NotFittedError):
        RatioFeatures().transform(pd.DataFrame({"a": [1]}))


def test_quantile_clipper_matches_numpy():
    """Bounds are the per-column nan-quantiles; NaN stays NaN."""
    rng = np.random.default_rng(1)
    train = rng.normal(size=(50, 3))
    train[4, 1] = np.nan
    clipper = QuantileClipper(0.1, 0.9).fit(train)
    low = np.nanquantile(train, 0.1, axis=0)
    high = np.nanquantile(train, 0.9, axis=0)
    np.testing.assert_allclose(clipper.low_, low)
    np.testing.assert_allclose(clipper.high_, high)
    new = np.array([[-10.0, 0.0, 10.0], [np.nan, 100.0, -100.0]])
    out = clipper.transform(new)
    np.testing.assert_allclose(out[0], [low[0], 0.0, high[2]])
    assert np.isnan(out[1, 0])
    np.testing.assert_allclose(out[1, 1:], [high[1], low[2]])
    assert clipper.n_features_in_ == 3


def test_quantile_clipper_frame_feature_names():
    """A DataFrame input records and returns its column names."""
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    clipper = QuantileClipper(0.0, 1.0).fit(frame)
    assert list(clipper.get_feature_names_out()) == ["a", "b"]
    np.testing.assert_array_equal(clipper.transform(frame), frame.to_numpy())


def test_quantile_clipper_empty_and_unfitted():
    """No rows: no bounds; transform before fit is refused."""
    clipper = QuantileClipper().fit(np.empty((0, 2)))
    assert clipper.low_ is None and clipper.high_ is None
    with pytest.raises(NotFittedError):
        QuantileClipper().transform(np.ones((2, 2)))


def test_outlier_rows():
    """Rows with any value outside its column quantiles are flagged."""
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4, 100], "b": [-50.0, 2, 3, 4, 5], "c": list("vwxyz")})
    mask = outlier_rows(frame, ["a", "b"], 0.1, 0.9)
    low, high = frame[["a", "b"]].quantile(0.1), frame[["a", "b"]].quantile(0.9)
    expected = ((frame[["a", "b"]] < low) | (frame[["a", "b"]] > high)).any(axis=1)
    assert mask.tolist() == expected.tolist() == [True, False, False, False, True]


def test_outlier_rows_without_columns():
    """No numeric columns: nothing is an outlier."""
    frame = pd.DataFrame({"c": ["x", "y"]}, index=[5, 6])
    mask = outlier_rows(frame, [], 0.01, 0.99)
    assert mask.tolist() == [False, False]
    assert list(mask.index) == [5, 6]


def test_ratio_features_write_missing_text_as_nan():
    """None and pd.NA in a text column become NaN (what the imputers treat as missing)."""
    X = pd.DataFrame({"Home": ["rent", None, pd.NA, np.nan]}, dtype=object)
    out = RatioFeatures().fit(X).transform(X)
    assert out["Home"].iloc[0] == "rent"
    assert all(isinstance(v, float) and np.isnan(v) for v in out["Home"].iloc[1:])
    assert X["Home"].iloc[1] is None  # the input is left alone
