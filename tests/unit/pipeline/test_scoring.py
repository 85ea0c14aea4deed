"""The one scoring path: the preprocessing run per distinct combination equals the step's own."""

import numpy as np
import pandas as pd
import pytest

from kaizen.pipeline import model as M
from kaizen.pipeline import scoring as S
from kaizen.pipeline.data import Schema
from tests.unit.helpers import credit_frame, make_params


@pytest.mark.parametrize(
    "update",
    [
        {},
        {"train": {"pca": {"n_components": 3}}},
        {"train": {"model": "hgb", "categories": {"min_frequency": 20}}},
    ],
)
def test_encode_equals_the_preprocessing_step(update):
    """The per-combination categorical branch gives prep.transform's matrix exactly, with
    missing, unseen and infrequent categories among the rows, and the same scores."""
    schema = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home", "Job"])
    frame = credit_frame(300)
    frame["Status"] = (frame["Status"] == "bad").astype("int8")
    frame["Job"] = np.where(np.arange(300) % 3 == 0, "fixed", "freelance").astype(object)
    frame.loc[frame.index[::7], "Job"] = "rare"
    frame["Home"] = frame["Home"].astype(object)
    pipeline = M.train(frame, schema, make_params(update).train).pipeline
    new = credit_frame(500, seed=4).astype({"Home": object})
    new["Job"] = np.array(["fixed", "freelance", "rare", "astronaut", None] * 100, dtype=object)
    new = new[schema.features]
    new.loc[new.index[::11], "Home"] = np.nan
    new.loc[new.index[::13], "Income"] = np.nan
    inputs = pipeline.named_steps["features"].transform(new)
    prep = pipeline.named_steps["prep"]
    assert np.array_equal(S.encode(prep, inputs), prep.transform(inputs), equal_nan=True)
    one = inputs.iloc[:1]
    assert np.array_equal(S.encode(prep, one), prep.transform(one), equal_nan=True)
    typed = inputs.astype({"Home": "category", "Job": "category"})  # as coerce_features types
    assert np.array_equal(S.encode(prep, typed), prep.transform(inputs), equal_nan=True)


def test_combinations_from_category_codes_match_grouping_by_value():
    """Categorical columns are combined from their codes: the same partition of the rows as
    grouping by value (missing a value of its own), and each row's representative holds the
    same values."""
    rng = np.random.default_rng(0)
    block = pd.DataFrame(
        {
            "a": rng.choice(np.array(["x", "y", None], dtype=object), 400),
            "b": rng.choice(np.array(["p", "q", "r", "s", None], dtype=object), 400),
        }
    )
    by_value, _ = S.combinations(block)
    typed = block.astype("category")
    by_code, rows = S.combinations(typed)
    assert len(np.unique(by_code)) == len(np.unique(by_value)) == len(rows)
    pairs = set(zip(by_code.tolist(), by_value.tolist()))
    assert len(pairs) == len(rows)  # one-to-one: the same groups
    held = typed.iloc[rows].to_numpy()[by_code]
    assert pd.DataFrame(held).equals(pd.DataFrame(typed.to_numpy()))
