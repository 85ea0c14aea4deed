"""`params.yaml`'s estimator sections (`train.logreg`, `train.rf`, `train.hgb`,
`train.scorecard`) -> frozen, validated configuration: kaizen.config holds the whole file and
re-exports these; this module keeps the estimators' knobs apart (config.py stays one concern)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    """Immutable, no unknown keys (as every section of kaizen.config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LogregConfig(_Section):
    """LogisticRegression hyper-parameters."""

    C: float = Field(1.0, gt=0)
    class_weight: Literal["balanced"] | None = None
    max_iter: int = Field(1000, ge=1)


class RfConfig(_Section):
    """RandomForestClassifier hyper-parameters."""

    n_estimators: int = Field(300, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(5, ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"
    class_weight: Literal["balanced", "balanced_subsample"] | None = None


class HgbConfig(_Section):
    """HistGradientBoostingClassifier hyper-parameters."""

    learning_rate: float = Field(0.05, gt=0)
    max_iter: int = Field(300, ge=1)
    max_depth: int | None = Field(None, ge=1)
    max_leaf_nodes: int = Field(15, ge=2)
    min_samples_leaf: int = Field(20, ge=1)
    l2_regularization: float = Field(0.0, ge=0)


Trend = Literal[
    "auto",
    "auto_heuristic",
    "auto_asc_desc",
    "ascending",
    "descending",
    "convex",
    "concave",
    "peak",
    "valley",
    "peak_heuristic",
    "valley_heuristic",
]


class ScorecardConfig(_Section):
    """`train.model: scorecard` (and the scorecard benchmark): optimal binning (optbinning),
    logistic regression on WoE, points by points-to-double-odds, and the validator's bounds."""

    trend: Trend = "auto_asc_desc"  # optbinning monotonic_trend of every numeric feature
    trends: dict[str, Trend] = Field(default_factory=dict)  # per-feature overrides
    exempt: list[str] = Field(default_factory=list)  # features whose points may be non-monotone
    min_bin_share: float = Field(0.05, gt=0, lt=0.5)  # smallest share of training rows a bin has
    max_bins: int = Field(10, ge=2, le=50)
    special_codes: list[float] = Field(default_factory=list)  # numeric codes binned apart
    C: float = Field(1.0, gt=0)  # inverse regularisation of the logistic regression on WoE
    pdo: float = Field(20.0, gt=0)  # points to double the odds (of good)
    base_score: float = 600.0  # the score where the odds of good are base_odds to 1
    base_odds: float = Field(50.0, gt=0)
    decimals: int = Field(0, ge=0, le=4)  # points rounded to this many decimals
    iv_min: float = Field(0.02, ge=0)  # a feature's IV below: useless; above iv_max: leakage?
    iv_max: float = Field(0.5, gt=0)
    age_column: str | None = "Age"  # Regulation B's age rule applies to it when it is an input

    @model_validator(mode="after")
    def _check_iv_band(self):
        """The IV band must be an interval."""
        if self.iv_min >= self.iv_max:
            raise ValueError(f"iv_min {self.iv_min} must be below iv_max {self.iv_max}")
        return self
