"""Protected groups: bands left-closed (62 is elderly), missing values a group, reference group."""

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.fairness import groups as G
from kaizen.fairness.params import FairnessConfig, Protected
from kaizen.pipeline.data import Schema
from tests.unit.helpers import make_params


def test_bands_are_left_closed_and_missing_is_a_group():
    """24.9 -> <25, 25 -> 25 to <62, 62 -> >=62; NaN -> missing."""
    ages = pd.Series([18, 24.9, 25, 61.5, 62, 90, np.nan])
    found = G.assign(ages, Protected(column="Age", bands=[25, 62]), "data")
    assert found.tolist() == ["<25", "<25", "25 to <62", "25 to <62", ">=62", ">=62", G.MISSING]


def test_categories_keep_their_values():
    """One group per value; missing is its own group."""
    values = pd.Series(["married", "single", None], dtype=object)
    assert G.assign(values, Protected(column="Marital"), "d").tolist() == [
        "married",
        "single",
        "missing",
    ]


def test_text_in_a_banded_column_is_a_one_line_error():
    """Bands on a text column name the column."""
    with pytest.raises(KaizenError, match="'Marital' has bands but non-numeric values"):
        G.assign(pd.Series(["married"]), Protected(column="Marital", bands=[1]), "data")


def test_reference_is_the_largest_unless_named():
    """Largest group by default; a named one must exist."""
    groups = pd.Series(["a", "b", "b"])
    assert G.reference_group(groups, Protected(column="x")) == "b"
    assert G.reference_group(groups, Protected(column="x", reference="a")) == "a"
    with pytest.raises(KaizenError, match="reference group 'z'"):
        G.reference_group(groups, Protected(column="x", reference="z"))


def test_undeclared_column_is_named_and_left_out(caplog):
    """A protected column absent from the data (own data without the default's Age) is named in
    a warning and left out; the attributes the data has are kept; an absent excluded column too."""
    config = FairnessConfig(protected=[Protected(column="Gender"), Protected(column="Income")])
    with caplog.at_level("WARNING"):
        kept = G.check_columns(["Income"], config, "schema.json")
        G.check_columns(["Income"], FairnessConfig(), "schema.json", ("Id",))
    assert [spec.column for spec in kept.protected] == ["Income"]
    assert "schema.json: fairness.protected: column 'Gender' is not in the data" in caplog.text
    assert "schema.json: train.excluded: column 'Id' is not in the data" in caplog.text


def test_ratios_built_from_a_protected_column_are_protected():
    """debt_to_income uses Income: protected with Income, amount_to_price is not."""
    params = make_params()
    schema = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])
    config = FairnessConfig(protected=[Protected(column="Income")])
    assert G.protected_inputs(schema, params.train, config) == ["Income", "debt_to_income"]
