"""Adverse-action reason codes: the features that raised an applicant's score the most.

A feature is a model input: a raw column or an engineered ratio (a ratio is a reason of its own,
as "debt to income" is on a lender's notice). Contributions are measured against the average
training applicant saved in `model.json` (`reference`, written by the train stage):

- Logistic regression, exact: the log-odds are linear in the columns the estimator sees, so
  `logit(x) - logit(average) = sum_j beta_j * (z_j - mean_j)` over the encoded columns `z`
  (scaled values, missing indicators, one-hot columns; through the PCA rotation when there is
  one). A feature's contribution is the sum of its columns' terms, in log-odds; the
  contributions of all features add up exactly to the applicant's distance from the average.
- Random forest and gradient boosting, model-agnostic ("one feature at a time" replacement):
  each feature in turn is set to its training reference value (the median, or the most
  frequent category) and the contribution is the score change, `score(x) - score(x with the
  feature replaced)`, in probability points. It ignores interactions between features (two
  features that only matter together each get a partial share), which is why it is a ranking
  of reasons, not a decomposition of the score.

- Scorecard, the adverse-action convention: a feature's contribution is its points shortfall,
  the most points any of its bins gives minus the applicant's points on it (`shortfalls`).

Reasons are the features with a positive contribution, largest first, at most K (four is the
usual number on an adverse-action notice). A protected attribute (params `fairness.protected`)
or a ratio built from one is never a reason, even in a model that uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kaizen import KaizenError

if TYPE_CHECKING:  # scikit-learn is imported by unpickling the model, not by importing this
    from sklearn.pipeline import Pipeline

EXACT = "logit"  # contributions in log-odds, exact
REPLACEMENT = "replacement"  # contributions in probability points, one feature at a time
SHORTFALL = "points"  # a scorecard's points below each feature's maximum


def owners(encoded: list[str], inputs: list[str]) -> list[str]:
    """The model input behind each encoded column (`num__Income`, `num__missingindicator_Debt`,
    `cat__Home_rent`): the longest input name that the column's name starts with."""
    by_length = sorted(inputs, key=len, reverse=True)
    found = []
    for column in encoded:
        branch, _, name = column.partition("__")
        name = name.removeprefix("missingindicator_")
        one_hot = branch == "cat"  # numeric columns carry the input's exact name
        owner = next(
            (i for i in by_length if name == i or (one_hot and name.startswith(f"{i}_"))), None
        )
        if owner is None:
            raise KaizenError(f"model: encoded column {column!r} matches no model input")
        found.append(owner)
    return found


# pylint: disable-next=too-few-public-methods,too-many-instance-attributes  # prepared once
class Explainer:
    """Per-feature contributions of a fitted pipeline, relative to its training reference."""

    def __init__(self, pipeline: Pipeline, reference: dict[str, Any]):
        self.pipeline = pipeline
        # Protected attributes and features derived from one (model.json's reference lists
        # them) are never a reason, even when the model uses them: their columns are left out.
        blocked = set(reference.get("protected", []))
        self.all_inputs = list(reference["inputs"])
        self.inputs = [name for name in self.all_inputs if name not in blocked]
        self.reference = reference
        # pylint: disable-next=import-outside-toplevel  # loaded with the model, see above
        from sklearn.linear_model import LogisticRegression

        linear = isinstance(pipeline.steps[-1][1], LogisticRegression)
        self.method = EXACT if linear else REPLACEMENT
        if hasattr(pipeline.steps[-1][1], "pdo"):  # a scorecard (kaizen.pipeline.scorecard)
            self.method = SHORTFALL
            self._best = best_points(pipeline)
        if self.method == EXACT:
            self._weights, self._means, self._owner_matrix = self._linear_terms()

    def _linear_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coefficient and training mean per encoded column, and the column -> input matrix."""
        prep = self.pipeline.named_steps["prep"]
        encoded = [str(name) for name in prep.get_feature_names_out()]
        saved = self.reference["encoded_means"]
        if sorted(saved) != sorted(encoded):
            raise KaizenError(
                "model.json: reference.encoded_means does not match the model's columns "
                "(retrain with `dvc repro train`)"
            )
        weights = self.pipeline.steps[-1][1].coef_[0]
        if "pca" in self.pipeline.named_steps:
            weights = self.pipeline.named_steps["pca"].components_.T @ weights
        matrix = np.zeros((len(encoded), len(self.inputs)))
        for row, owner in enumerate(owners(encoded, self.all_inputs)):
            if owner in self.inputs:
                matrix[row, self.inputs.index(owner)] = 1.0
        return weights, np.array([saved[name] for name in encoded]), matrix

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """One row per applicant, one column per model input: how much it raised the score."""
        inputs = self.pipeline.named_steps["features"].transform(features)
        encoded = self.pipeline.named_steps["prep"].transform(inputs)
        values = self.explain(inputs, encoded)
        return pd.DataFrame(values, index=features.index, columns=self.inputs)

    def explain(self, inputs: pd.DataFrame, encoded: np.ndarray) -> np.ndarray:
        """`contributions` from the pipeline's own intermediate results (the model inputs and
        their encoding), so that a caller that scored them already does not transform twice."""
        if self.method == SHORTFALL:
            return shortfalls(self.pipeline, encoded, self._best, self.inputs)
        if self.method == EXACT:
            exact: np.ndarray = ((encoded - self._means) * self._weights) @ self._owner_matrix
            return exact
        return self._replacement(inputs)

    def _replacement(self, inputs: pd.DataFrame) -> np.ndarray:
        """Score change when each input in turn takes its reference value (one batched call)."""
        rest = self.pipeline[1:]
        variants = [inputs]
        for name in self.inputs:
            variant = inputs.copy()
            value = self.reference["inputs"][name]
            variant[name] = np.nan if value is None else value
            if inputs[name].dtype == object:
                variant[name] = variant[name].astype(object)
            variants.append(variant)
        scores = rest.predict_proba(pd.concat(variants, ignore_index=True))[:, 1]
        scores = scores.reshape(len(variants), len(inputs))
        changes: np.ndarray = (scores[0] - scores[1:]).T
        return changes


def best_points(pipeline: Pipeline) -> pd.Series:
    """Per feature of a scorecard, the most points any of its bins with training rows gives."""
    # pylint: disable-next=import-outside-toplevel  # scikit-learn and optbinning: on use only
    from kaizen.pipeline.scorecard import best_points as best

    return best(pipeline)


def shortfalls(
    pipeline: Pipeline, encoded: np.ndarray, best: pd.Series, inputs: list[str]
) -> np.ndarray:
    """A scorecard's reason codes: per applicant and model input, the points below that
    feature's maximum (`best`), from the binning step's WoE matrix `encoded`; the adverse-action
    convention ("points lost on each characteristic"), columns in `inputs` order."""
    binning, model = pipeline.named_steps["prep"], pipeline.steps[-1][1]
    lost = best.reindex(binning.features).to_numpy() - model.points(encoded)
    order = [binning.features.index(name) for name in inputs]
    found: np.ndarray = np.maximum(lost[:, order], 0.0)
    return found


def top_k(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a contributions matrix: the columns of its `k` largest values, largest first
    (ties by column order, so the result is deterministic), those values, and how many of them
    are positive (a prefix, since they are sorted). Vectorised: no Python work per row."""
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(values, order, axis=1)
    return order, picked, np.count_nonzero(picked > 0, axis=1)


def top_reasons(contributions: pd.DataFrame, k: int) -> list[list[tuple[str, float]]]:
    """Per row, at most `k` (feature, contribution) pairs with a positive contribution, largest
    first (ties by column order)."""
    order, picked, positive = top_k(contributions.to_numpy(), k)
    names = np.asarray(contributions.columns, dtype=object)[order].tolist()
    return [
        list(zip(row_names[:count], row_values[:count]))
        for row_names, row_values, count in zip(names, picked.tolist(), positive.tolist())
    ]
