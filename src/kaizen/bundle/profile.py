"""The reference profile a bundle carries for drift, instead of applicant rows.

Per feature (engineered ratios included): the reference's marginal distribution: numeric, its
distinct values and their counts; categorical, its level counts; both, the missing count. Every
drift statistic the monitor offers (PSI and chi-squared on reference bins, KS, normed
Wasserstein, Jensen-Shannon, missing and unseen shares) is a function of one column's marginal
distribution, so a frame rebuilt from the profile gets the verdicts the reference rows get
(tested), while no row of it links one applicant's columns. Deciles are kept for reading.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

DECILES = tuple(np.round(np.linspace(0, 1, 11), 1))


class FeatureProfile(BaseModel):
    """One feature's marginal distribution in the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["numeric", "categorical"]
    rows: int
    missing: int
    values: list[float] | list[str]
    counts: list[int]
    deciles: list[float] | None = None  # numeric: 0 %, 10 %, …, 100 % of non-missing values

    @model_validator(mode="after")
    def _consistent(self) -> "FeatureProfile":
        """Counts pair with values and add up with the missing count to the rows."""
        if len(self.values) != len(self.counts) or sum(self.counts) + self.missing != self.rows:
            raise ValueError("values, counts and missing do not add up to rows")
        return self


def feature_profile(values: pd.Series, kind: Literal["numeric", "categorical"]) -> FeatureProfile:
    """The profile of one reference column."""
    present = values.dropna()
    if kind == "numeric":
        numbers = present.astype("float64")
        counts = numbers.value_counts().sort_index()
        deciles = np.quantile(numbers, DECILES).tolist() if len(numbers) else None
        found: list[float] | list[str] = [float(v) for v in counts.index]
    else:
        counts = present.astype(str).value_counts().sort_index()
        deciles = None
        found = [str(v) for v in counts.index]
    return FeatureProfile(
        kind=kind,
        rows=len(values),
        missing=int(len(values) - len(present)),
        values=found,
        counts=[int(c) for c in counts.to_numpy()],
        deciles=deciles,
    )


def build(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> dict[str, FeatureProfile]:
    """The profile of every listed column of the (engineered) reference frame."""
    profile = {name: feature_profile(frame[name], "numeric") for name in numeric}
    profile.update({name: feature_profile(frame[name], "categorical") for name in categorical})
    return profile


def rebuild(profile: dict[str, FeatureProfile]) -> pd.DataFrame:
    """A frame with each column's reference distribution (columns sorted independently, missing
    values last): what the drift functions read in place of the reference rows."""
    columns = {}
    for name, item in profile.items():
        repeated = np.repeat(np.asarray(item.values, dtype=object), item.counts)
        if item.kind == "numeric":
            column = np.concatenate([repeated.astype("float64"), np.full(item.missing, np.nan)])
            columns[name] = pd.Series(column, dtype="float64")
        else:
            column = np.concatenate([repeated, np.full(item.missing, None, dtype=object)])
            columns[name] = pd.Series(column, dtype=object)
    return pd.DataFrame(columns)
