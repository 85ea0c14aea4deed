"""A small synthetic reference and windows drawn from it (or shifted), shared by the tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kaizen.config import parse_params
from kaizen.monitoring.window import Reference, Window

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def population(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Inputs, calibrated scores and outcomes drawn from them."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(5 + shift, 0.4, n).round()
    home = rng.choice(["rent", "owner", "other"], n, p=[0.4, 0.5, 0.1])
    logit = -1.0 - 0.004 * (income - 150) + 0.8 * (home == "rent")
    score = 1 / (1 + np.exp(-logit))
    outcome = (rng.random(n) < score).astype(float)
    return pd.DataFrame({"Income": income, "Home": home, "score": score, "outcome": outcome})


def params(drift: dict | None = None, **monitor):
    """Params with a monitor section (small minimums for small frames) and drift overrides."""
    values = {"min_events": 200, "min_labelled": 200, "min_defaults": 10, **monitor}
    return parse_params(
        {
            "data": {"path": "d.csv", "target": "y", "positive": 1},
            "monitor": values,
            "drift": {"min_rows": 200, **(drift or {})},
        }
    )


@pytest.fixture(name="reference")
def fixture_reference() -> Reference:
    """3,000 reference rows; the test split: 1,000 more with outcomes; calibrated scores, so no
    recalibration map (as a bundle built before it existed: the raw scores are estimated)."""
    features = population(3000, seed=1)
    test = population(1000, seed=2)
    return Reference(
        features=features[["Income", "Home"]],
        numeric=["Income"],
        categorical=["Home"],
        scores=test["score"].to_numpy(),
        labels=test["outcome"].to_numpy(),
        threshold=0.3,
        evaluated={"threshold": 0.3, "test": {"roc_auc": 0.75, "cost": 0.6, "positive_rate": 0.3}},
        model_version="abc",
    )


def window(
    n: int, seed: int = 3, shift: float = 0.0, labelled: bool = False, matured: bool = False
) -> Window:
    """A window of n events created a day before NOW; `matured`: their outcomes can be judged
    (as the store's query says when they are older than the outcome window)."""
    frame = population(n, seed, shift)
    frame["decision"] = np.where(frame["score"] >= 0.3, "refuse", "accept")
    frame["matured"] = matured
    frame["model_version"] = "abc"
    if not labelled:
        frame["outcome"] = np.nan
    return Window(frame, NOW - dt.timedelta(days=7), NOW)
