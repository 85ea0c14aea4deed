"""The reference profile: drift verdicts from the profile equal those from the reference rows."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from kaizen.bundle import profile
from kaizen.config import DriftConfig
from kaizen.drift import verdicts
from tests.unit.helpers import credit_frame

NUMERIC = ["Income", "Debt", "Amount", "Price"]
CATEGORICAL = ["Home"]


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """A current sample with a scaled income, a new category and more missing debts."""
    current = frame.copy()
    current["Income"] = current["Income"] * 1.3
    current.loc[current.index[:40], "Home"] = "boat"
    current.loc[current.index[40:90], "Debt"] = np.nan
    return current


@pytest.mark.parametrize(
    "methods",
    [
        {"numeric_method": "psi", "categorical_method": "psi"},
        {"numeric_method": "ks", "categorical_method": "chi2"},
        {"numeric_method": "wasserstein", "categorical_method": "jensenshannon"},
    ],
)
def test_verdicts_from_the_profile_equal_those_from_the_rows(methods):
    """Every drift method gives the same verdicts and figures on the profile as on the rows."""
    reference, current = credit_frame(600, seed=1), shifted(credit_frame(400, seed=2))
    reference.loc[reference.index[::9], ["Debt", "Home"]] = np.nan  # missing values too
    config = DriftConfig(**methods, min_rows=50)
    rebuilt = profile.rebuild(profile.build(reference, NUMERIC, CATEGORICAL))
    from_rows = verdicts.analyse(reference, current, NUMERIC, CATEGORICAL, config)
    from_profile = verdicts.analyse(rebuilt, current, NUMERIC, CATEGORICAL, config)
    assert [f.to_dict() for f in from_profile.features] == [f.to_dict() for f in from_rows.features]
    assert {f.verdict for f in from_rows.features} != {"stable"}  # the shifts were seen


def test_the_profile_holds_no_row():
    """Columns are sorted independently: no rebuilt row is a reference row (a record)."""
    reference = credit_frame(300, seed=3)
    rebuilt = profile.rebuild(profile.build(reference, NUMERIC, CATEGORICAL))
    assert len(rebuilt) == len(reference)
    for name in NUMERIC:
        assert rebuilt[name].is_monotonic_increasing
        assert list(rebuilt[name]) == sorted(reference[name].astype(float))
    rows = set(map(tuple, reference[NUMERIC].astype(float).to_numpy()))
    assert sum(row in rows for row in map(tuple, rebuilt[NUMERIC].to_numpy())) < len(rows) / 10


def test_counts_must_add_up():
    """An inconsistent profile is refused."""
    with pytest.raises(ValidationError, match="do not add up"):
        profile.FeatureProfile(kind="numeric", rows=5, missing=1, values=[1.0], counts=[3])
