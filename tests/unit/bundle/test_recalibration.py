"""The isotonic recalibration map: equal to scikit-learn's predictions, calibrated in-sample,
and a one-line refusal with one class."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from kaizen.bundle import recalibration


def test_map_reproduces_isotonic_regression_and_calibrates():
    """apply() equals IsotonicRegression.predict (clipped outside the fit); the mean of the
    recalibrated scores equals the default rate it was fitted on."""
    rng = np.random.default_rng(3)
    truth = rng.uniform(0.02, 0.6, 800)
    score = 1 / (1 + np.exp(-1.6 * np.log(truth / (1 - truth))))  # over-confident scores
    label = (rng.random(800) < truth).astype(int)
    fitted = recalibration.fit(score, label)
    probe = np.r_[np.linspace(-0.1, 1.1, 50), score[:20]]
    expected = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(score, label)
    np.testing.assert_allclose(fitted.apply(probe), expected.predict(probe), atol=1e-12)
    assert fitted.apply(score).mean() == pytest.approx(label.mean(), abs=1e-9)
    assert fitted.rows == 800 and fitted.defaults == int(label.sum())
    assert fitted.low == score.min() and fitted.high == score.max()
    assert recalibration.Recalibration.model_validate(fitted.model_dump()) == fitted


def test_one_class_is_refused():
    """No map without both classes."""
    with pytest.raises(ValueError, match="both defaults and non-defaults"):
        recalibration.fit(np.array([0.1, 0.2]), np.array([0, 0]))
