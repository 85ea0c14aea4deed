"""Engineered ratios: the fitted pipeline's and bundle.json's agree, and the function the
monitor calls gives the pipeline's first step's frame exactly."""

import numpy as np
import pandas as pd

from kaizen.bundle import artifact
from kaizen.pipeline.features import RatioFeatures
from kaizen.pipeline.ratios import append_ratios, ratios_of, with_ratios

RATIOS = (("dti", "Debt", "Income"), ("ltv", "Amount", "Price"))


def frame() -> pd.DataFrame:
    """Numbers, text numbers, zero and missing denominators, missing text of every kind."""
    return pd.DataFrame(
        {
            "Debt": [10.0, 5.0, 3.0, 1.0],
            "Income": [20.0, 0.0, np.nan, 4.0],
            "Amount": ["100", "x", None, "7.5"],
            "Price": [200.0, 50.0, 10.0, 0.0],
            "Home": ["rent", None, pd.NA, "owner"],
        }
    )


def test_append_ratios_is_the_pipelines_first_step():
    """Same columns, values and missing markers as RatioFeatures.transform."""
    expected = RatioFeatures(RATIOS).fit(frame()).transform(frame())
    pd.testing.assert_frame_equal(append_ratios(frame(), RATIOS), expected)
    assert append_ratios(frame(), RATIOS)["Home"].isna().tolist() == [False, True, True, False]
    np.testing.assert_array_equal(expected["ltv"], [0.5, np.nan, np.nan, np.nan])


def test_with_ratios_names_them_and_leaves_a_frame_without_any():
    """The names in order; no ratios: the very frame (no copy)."""
    source = frame()
    out, names = with_ratios(source, RATIOS)
    assert names == ["dti", "ltv"] == list(out.columns[-2:]) and "dti" not in source
    same, none = with_ratios(source, ())
    assert same is source and none == []


def test_ratios_of_the_fitted_pipeline_are_bundle_jsons(bundled):
    """The pipeline names its ratios with their columns; bundle.json records the same, so a
    bundle opened without its model gives them; anything but a pipeline has none."""
    loaded = artifact.load(bundled)
    found = ratios_of(loaded.model.pipeline)
    assert ("debt_to_income", "Debt", "Income") in found
    assert artifact.load(bundled, model=False).ratios == found
    assert not ratios_of(object())
