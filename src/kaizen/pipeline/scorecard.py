"""The industry scorecard (`train.model: scorecard`): optimal binning with weight of evidence
(optbinning's `BinningProcess`) -> logistic regression on the WoE values -> points scaled by
points-to-double-odds, as the two last steps of the one model Pipeline.

Scaling (Siddiqi): `score = offset + factor * ln(odds of good)` with `factor = pdo / ln 2` and
`offset = base_score - factor * ln(base_odds)`, so that `base_score` points mean odds of
`base_odds` to 1 and every `pdo` more points double the odds. The logistic regression's log-odds
of default, `a + sum_j b_j * woe_j`, split into one term per feature:
`points_j = offset / n - factor * (a / n + b_j * woe_j)`, rounded to `decimals`. The score is the
sum of a row's points and the probability of default is read back from the score alone, so that
the points table (and the SQL built from it) is the whole model: what a validator reads is what
scores. WoE is optbinning's, `ln(share of non-defaults / share of defaults)`: a higher WoE is a
safer bin, so every coefficient should be negative (`scorecard_checks`).
"""

# scikit-learn conventions: fitted attributes are set in fit(), not __init__.
# pylint: disable=attribute-defined-outside-init

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from kaizen import KaizenError
from kaizen.config import ScorecardConfig

SPLIT_DIGITS = 6  # significant digits of numeric split points: literals SQL reads back exactly
REGULAR, SPECIAL, MISSING, UNKNOWN = "regular", "special", "missing", "unknown"


@contextmanager
def quiet() -> Iterator[None]:
    """Silence optbinning's own pandas 3 deprecation warning (its binning table's Totals row),
    which no caller can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")
        yield


class WoEBinning(TransformerMixin, BaseEstimator):  # pylint: disable=too-many-instance-attributes
    """Optimal binning of every input (optbinning's BinningProcess) -> its bin's WoE.

    `trends` holds `(feature, monotonic_trend)` pairs overriding `trend` for numeric features;
    categorical features are binned by event rate (ordered by construction)."""

    def __init__(  # pylint: disable=too-many-arguments  # one per optbinning knob
        self,
        *,
        numeric: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        trend: str = "auto_asc_desc",
        trends: tuple[tuple[str, str], ...] = (),
        min_bin_share: float = 0.05,
        max_bins: int = 10,
        special_codes: tuple[float, ...] = (),
    ):
        self.numeric = numeric
        self.categorical = categorical
        self.trend = trend
        self.trends = trends
        self.min_bin_share = min_bin_share
        self.max_bins = max_bins
        self.special_codes = special_codes

    @property
    def features(self) -> list[str]:
        """The binned inputs, numeric first."""
        return list(self.numeric) + list(self.categorical)

    def trend_of(self, name: str) -> str | None:
        """The monotonic trend asked of a feature (None: optbinning's default, categorical)."""
        if name in self.categorical:
            return dict(self.trends).get(name)
        return dict(self.trends).get(name, self.trend)

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """The binned columns, categorical ones as Python objects (optbinning's input)."""
        frame = X[self.features].copy()
        for name in self.categorical:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), np.nan)
        return frame

    def fit(self, X: pd.DataFrame, y=None):
        """Find each feature's optimal bins on the training rows."""
        # pylint: disable-next=import-outside-toplevel  # heavy (ortools): loaded on use only
        from optbinning import BinningProcess

        fit_params = {}
        for name in self.features:
            trend = self.trend_of(name)
            if trend is not None:
                fit_params[name] = {"monotonic_trend": trend}
        process = BinningProcess(
            self.features,
            categorical_variables=list(self.categorical) or None,
            max_n_bins=self.max_bins,
            min_bin_size=self.min_bin_share,
            special_codes=list(self.special_codes) or None,
            split_digits=SPLIT_DIGITS,
            binning_fit_params=fit_params,
        )
        with quiet():
            self.process_ = process.fit(self._frame(X), np.asarray(y))
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """One WoE column per feature; missing and special values take their own bin's WoE
        (optbinning's default would give them 0), an unseen category 0 (the average)."""
        check_is_fitted(self)
        woe = self.process_.transform(
            self._frame(X), metric="woe", metric_special="empirical", metric_missing="empirical"
        )
        return np.asarray(woe, dtype=float)

    def get_feature_names_out(self, input_features=None):  # pylint: disable=unused-argument
        """One output per binned feature, named after it."""
        return np.asarray(self.features, dtype=object)


# pylint: disable-next=too-many-instance-attributes  # scikit-learn: parameters + fitted state
class ScorecardClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on WoE inputs whose log-odds become points (see the module's doc);
    `predict_proba` reads the probability of default back from the rounded score."""

    def __init__(  # pylint: disable=too-many-arguments  # one per scaling knob
        self,
        *,
        C: float = 1.0,  # pylint: disable=invalid-name  # scikit-learn's name
        pdo: float = 20.0,
        base_score: float = 600.0,
        base_odds: float = 50.0,
        decimals: int = 0,
        max_iter: int = 1000,
        seed: int = 42,
    ):
        self.C = C  # pylint: disable=invalid-name  # scikit-learn's name
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.decimals = decimals
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, X: np.ndarray, y):
        """Fit the regression on WoE columns, then fix the scaling."""
        X = np.asarray(X, dtype=float)
        regression = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed)
        self.regression_ = regression.fit(X, y)
        self.classes_ = regression.classes_
        self.n_features_in_ = X.shape[1]
        self.coef_ = regression.coef_
        self.intercept_ = regression.intercept_
        self.factor_ = self.pdo / math.log(2.0)
        self.offset_ = self.base_score - self.factor_ * math.log(self.base_odds)
        return self

    @property
    def unit(self) -> int:
        """Points are whole multiples of 1 / unit."""
        return int(10**self.decimals)

    def units(self, woe: np.ndarray) -> np.ndarray:
        """Per row and feature, the points in integer units of 1 / `unit` (exact sums)."""
        check_is_fitted(self)
        count = self.coef_.shape[1]
        raw = self.offset_ / count - self.factor_ * (
            self.intercept_[0] / count + np.asarray(woe, dtype=float) * self.coef_[0]
        )
        return np.rint(raw * self.unit).astype(np.int64)

    def points(self, woe: np.ndarray) -> np.ndarray:
        """Per row and feature, the points (rounded to `decimals`)."""
        return self.units(woe) / self.unit

    def score(self, X, y=None, sample_weight=None):  # pylint: disable=unused-argument
        """The scorecard score of each row: the sum of its points (higher is safer).

        (Overrides scikit-learn's accuracy `score`: a scorecard's score is its points.)"""
        return self.units(X).sum(axis=1) / self.unit

    def default_probability(self, score: np.ndarray) -> np.ndarray:
        """Probability of default for a score: odds of good `exp((score - offset) / factor)`."""
        check_is_fitted(self)
        return expit(-(np.asarray(score, dtype=float) - self.offset_) / self.factor_)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of default, read from the score."""
        return -(self.score(X) - self.offset_) / self.factor_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Columns (good, default), read from the score."""
        bad = self.default_probability(self.score(X))
        return np.column_stack([1.0 - bad, bad])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Default when its probability reaches one half."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def build(numeric: list[str], categorical: list[str], config: ScorecardConfig, seed: int):
    """The scorecard's two steps (binning, then the points model) for these inputs; a feature
    named in `trends` or `exempt` that is not one of them is a one-line error."""
    for key, names in (("trends", list(config.trends)), ("exempt", config.exempt)):
        unknown = [name for name in names if name not in numeric + categorical]
        if unknown:
            raise KaizenError(
                f"params.yaml: train.scorecard.{key}: {', '.join(map(repr, unknown))} is not a "
                f"model input (inputs: {', '.join(numeric + categorical)})"
            )
    binning = WoEBinning(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        trend=config.trend,
        trends=tuple(sorted(config.trends.items())),
        min_bin_share=config.min_bin_share,
        max_bins=config.max_bins,
        special_codes=tuple(config.special_codes),
    )
    model = ScorecardClassifier(
        C=config.C,
        pdo=config.pdo,
        base_score=config.base_score,
        base_odds=config.base_odds,
        decimals=config.decimals,
        seed=seed,
    )
    return binning, model


def is_scorecard(pipeline) -> bool:
    """Whether a fitted Pipeline is a scorecard (its last step scales points)."""
    return isinstance(pipeline.steps[-1][1], ScorecardClassifier)


def table(pipeline) -> pd.DataFrame:
    """The points table: one row per bin of each feature (regular bins in order, then special,
    missing and, for categorical features, unseen values), with its definition (`lower` <= x <
    `upper`, or `categories`), training count and share, event rate, WoE, IV and points."""
    binning, model = pipeline.steps[-2][1], pipeline.steps[-1][1]
    rows = []
    for column, name in enumerate(binning.features):
        optb = binning.process_.get_binned_variable(name)
        with quiet():
            built = optb.binning_table.build().drop(index="Totals")
        woe = _woe(built)
        kinds = [REGULAR] * (len(built) - 2) + [SPECIAL, MISSING]
        bounds = _bounds(optb, len(built) - 2)
        for position, (label, kind) in enumerate(zip(built["Bin"], kinds)):
            lower, upper, categories = bounds[position] if kind == REGULAR else (None, None, None)
            rows.append(
                {
                    "feature": name,
                    "bin": _label(label, kind),
                    "kind": kind,
                    "index": position,
                    "lower": lower,
                    "upper": upper,
                    "categories": categories,
                    "count": int(built["Count"].iloc[position]),
                    "share": float(built["Count (%)"].iloc[position]),
                    "event_rate": float(built["Event rate"].iloc[position]),
                    "woe": float(woe[position]),
                    "iv": float(built["IV"].iloc[position]),
                }
            )
        if name in binning.categorical:  # an unseen category: optbinning's WoE 0 (the average)
            rows.append({"feature": name, "bin": "(unseen)", "kind": UNKNOWN, "woe": 0.0})
        for row in rows:
            if row["feature"] == name:
                woes = np.zeros((1, len(binning.features)))
                woes[0, column] = row["woe"]
                row["points"] = float(model.points(woes)[0, column])
    found = pd.DataFrame(rows)
    found["index"] = found["index"].fillna(-1).astype(int)
    found[["count", "share", "event_rate", "iv"]] = found[
        ["count", "share", "event_rate", "iv"]
    ].fillna(0)
    return found


def _woe(built: pd.DataFrame) -> np.ndarray:
    """The WoE optbinning's transform assigns each bin: 0 where a bin lacks either class."""
    both = (built["Event"] > 0) & (built["Non-event"] > 0)
    return np.where(both, built["WoE"].astype(float), 0.0)


def _bounds(optb, regular: int) -> list[tuple[float | None, float | None, str | None]]:
    """Per regular bin, (lower, upper, None) for a numeric feature or (None, None, categories
    joined by '|') for a categorical one."""
    if optb.dtype == "numerical":
        edges = [-math.inf] + [float(value) for value in optb.splits] + [math.inf]
        return [(edges[i], edges[i + 1], None) for i in range(regular)]
    return [(None, None, "|".join(str(v) for v in values)) for values in optb.splits[:regular]]


def _label(label, kind: str) -> str:
    """A bin's printable name."""
    if kind != REGULAR:
        return kind
    if isinstance(label, str):
        return label
    return "[" + ", ".join(str(value) for value in label) + "]"


def information_values(points: pd.DataFrame) -> pd.Series:
    """Total IV per feature (the binning table's), in feature order."""
    return points.groupby("feature", sort=False)["iv"].sum()


def table_points(points: pd.DataFrame, inputs: pd.DataFrame, special=()) -> pd.DataFrame:
    """Per row and feature, the points the table gives (looked up from its bin definitions,
    independently of the pipeline): the check that the table is the model, and the contract
    the SQL expression follows."""
    found = {}
    for name, bins in points.groupby("feature", sort=False):
        by_kind = dict(list(bins.groupby("kind")))
        values = inputs[name]
        missing = values.isna().to_numpy()
        is_special = values.isin(list(special)).to_numpy() & ~missing
        regular = by_kind[REGULAR]
        if regular["categories"].notna().any():
            result = np.full(len(values), single_points(by_kind, UNKNOWN))
            text = values.astype(object).where(values.notna(), None)
            for _, row in regular.iterrows():
                result[text.isin(row["categories"].split("|")).to_numpy()] = row["points"]
        else:
            uppers = regular["upper"].to_numpy(dtype=float)[:-1]
            numbers = values.to_numpy(dtype=float, na_value=np.nan)
            result = regular["points"].to_numpy()[np.searchsorted(uppers, numbers, "right")]
        result = np.where(is_special, single_points(by_kind, SPECIAL), result)
        found[name] = np.where(missing, single_points(by_kind, MISSING), result)
    return pd.DataFrame(found, index=inputs.index)


def single_points(by_kind: dict[str, pd.DataFrame], kind: str) -> float:
    """The points of a feature's one special, missing or unseen bin."""
    return float(by_kind[kind]["points"].iloc[0])


def known_categories(pipeline) -> dict[str, list[str]]:
    """Per categorical feature, the categories its regular bins hold."""
    binning = pipeline.named_steps["prep"]
    found = {}
    for name in binning.categorical:
        splits = binning.process_.get_binned_variable(name).splits
        found[name] = sorted(str(value) for values in splits for value in values)
    return found


def best_points(pipeline) -> pd.Series:
    """Per feature, the most points any of its bins with training rows gives: the reference
    of a scorecard's reason codes (a shortfall from it is a reason)."""
    points = table(pipeline)
    held = points[(points["kind"] == REGULAR) | (points["count"] > 0)]
    return held.groupby("feature", sort=False)["points"].max()
