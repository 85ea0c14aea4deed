"""The recalibration map stored in the bundle: the model's scores -> probabilities of default,
fitted by isotonic regression on the test split's scores and outcomes at bundle time.

The monitor's performance estimate (CBPE) reads scores as probabilities; the model's own are
over-confident on the default data (calibration slope about 0.86), which biased the estimate by
about +0.02 ROC AUC. Isotonic regression (what NannyML fits) removes that bias (about -0.001 on
the current part) without assuming a shape. The map is the fitted step function's knots;
applying it is a linear interpolation between them, clipped at the ends, exactly as
`sklearn.isotonic.IsotonicRegression.predict` with `out_of_bounds="clip"`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class Recalibration(BaseModel):
    """Isotonic map from score to probability of default, with what it was fitted on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["isotonic"] = "isotonic"
    x: list[float]  # knots: scores, increasing
    y: list[float]  # probabilities at the knots, non-decreasing
    rows: int = Field(ge=0)  # test-split rows it was fitted on
    defaults: int = Field(ge=0)  # ... of which defaults

    @property
    def low(self) -> float:
        """Smallest score of the fit (lower scores get the first knot's probability)."""
        return self.x[0]

    @property
    def high(self) -> float:
        """Largest score of the fit."""
        return self.x[-1]

    def apply(self, score: np.ndarray) -> np.ndarray:
        """Probabilities of default for `score`."""
        found: np.ndarray = np.interp(np.asarray(score, dtype="float64"), self.x, self.y)
        return found


def fit(score: np.ndarray, label: np.ndarray) -> Recalibration:
    """The isotonic map of `label` (0/1) on `score`; needs both classes."""
    # pylint: disable-next=import-outside-toplevel  # scikit-learn: bundling only, not applying
    from sklearn.isotonic import IsotonicRegression

    s = np.asarray(score, dtype="float64")
    y = np.asarray(label, dtype="float64")
    if s.size == 0 or y.min() == y.max():
        raise ValueError("recalibration needs both defaults and non-defaults")
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
    return Recalibration(
        x=[float(v) for v in model.X_thresholds_],
        y=[float(v) for v in model.y_thresholds_],
        rows=int(s.size),
        defaults=int(y.sum()),
    )
