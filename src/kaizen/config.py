"""`params.yaml`'s content -> frozen, validated, typed configuration (unknown keys are errors);
kaizen.io.params reads the file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kaizen import KaizenError
from kaizen.card.params import ModelCardConfig
from kaizen.fairness.params import FairnessConfig
from kaizen.pipeline.estimators import HgbConfig, LogregConfig, RfConfig, ScorecardConfig
from kaizen.splits import TAGS, DateSplit, NoSplit, Split, split_from_current_start

ColumnKind = Literal["numeric", "categorical", "drop"]


class _Section(BaseModel):
    """Base of every section: immutable, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
    """Where the raw data is, how to read it, and how to split it (read by `ingest`)."""

    path: str
    target: str
    positive: str | int | float | bool
    separator: str = ","
    columns: dict[str, ColumnKind] = Field(default_factory=dict)
    missing_values: list[str | int | float] = Field(default_factory=list)
    drop_duplicates: bool = True
    split: Split = NoSplit(by="none")
    key: str | list[str] | None = None  # column(s) identifying a row: the PR report's data diff
    # Deprecated: replaced by `split` (kept working, migrated by `kaizen data add`).
    current_start: int | float | Literal["none"] | None = None

    @field_validator("current_start", mode="before")
    @classmethod
    def _reject_bool(cls, value):
        """YAML `true`/`false` would otherwise pass as the row numbers 1/0."""
        if isinstance(value, bool):
            raise ValueError("must be a row number, a fraction in (0, 1) or 'none'")
        return value

    @field_validator("key")
    @classmethod
    def _check_key(cls, value):
        """Column names, each once: a blank or repeated name cannot identify a row."""
        names = [value] if isinstance(value, str) else value or []
        if isinstance(value, list) and not value:
            raise ValueError("an empty list: give a column name, a list of them, or null")
        if any(not name.strip() for name in names):
            raise ValueError("a column name cannot be blank")
        if len(set(names)) < len(names):
            raise ValueError("a column is listed twice")
        return value

    @field_validator("current_start")
    @classmethod
    def _check_current_start(cls, value):
        """A data row number (>= 2), a fraction in (0, 1), or "none"."""
        if isinstance(value, float) and not 0 < value < 1:
            raise ValueError("a fraction must lie strictly between 0 and 1")
        if isinstance(value, int) and value < 2:
            raise ValueError("a row number must be >= 2 (1-based data row)")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _migrate_current_start(cls, data, handler):
        """The deprecated `current_start` becomes the equivalent `split` (never both)."""
        config = handler(data)
        if config.current_start is None:
            return config
        if "split" in config.model_fields_set:
            raise ValueError("current_start is deprecated and replaced by split: keep split only")
        migrated = dict(data)
        migrated.pop("current_start")
        migrated["split"] = split_from_current_start(config.current_start)
        return handler(migrated)

    @model_validator(mode="after")
    def _date_column_is_no_feature(self):
        """The date column of a date split orders the rows; it cannot also be a feature."""
        column = self.date_column
        if column is not None and self.columns.get(column, "drop") != "drop":
            raise ValueError(f"columns.{column}: the date column of split cannot be a feature")
        return self

    @property
    def key_columns(self) -> list[str]:
        """The columns of `key` as a list (empty when there is no key)."""
        return [self.key] if isinstance(self.key, str) else list(self.key or [])

    @property
    def date_column(self) -> str | None:
        """The column a date split orders by (kept out of the features), else None."""
        return self.split.column if isinstance(self.split, DateSplit) else None


class PrepareConfig(_Section):
    """Train/test split of the reference part."""

    test_size: float = Field(0.25, gt=0, lt=1)
    seed: int = 42


class Ratio(_Section):
    """An engineered feature `numerator / denominator`."""

    name: str
    numerator: str
    denominator: str


class FeaturesConfig(_Section):
    """Feature engineering declared in params."""

    ratios: list[Ratio] = Field(default_factory=list)


class OutliersConfig(_Section):
    """Outlier handling on numeric columns, by training quantiles."""

    method: Literal["none", "clip", "remove"] = "clip"
    lower: float = Field(0.01, ge=0, lt=0.5)
    upper: float = Field(0.99, gt=0.5, le=1)


class PcaConfig(_Section):
    """Optional PCA after scaling; `n_components: null` disables it."""

    n_components: int | None = Field(None, ge=1)


class CategoriesConfig(_Section):
    """One-hot encoding of categorical columns: rare levels pooled, level count capped."""

    # Levels seen in fewer training rows (a count) or a smaller share of them (a fraction) are
    # pooled into one "infrequent" column; null keeps every level.
    min_frequency: int | float | None = 5
    max_categories: int | None = Field(50, ge=2)  # at most this many columns per feature
    # Warn about a column whose distinct values exceed this share of training rows: an
    # identifier or free text, better dropped through data.columns.
    warn_share: float = Field(0.3, gt=0, le=1)

    @field_validator("min_frequency", mode="before")
    @classmethod
    def _reject_bool(cls, value):
        """YAML `true` would otherwise pass as the count 1."""
        if isinstance(value, bool):
            raise ValueError("must be a count, a fraction in (0, 1) or null")
        return value

    @field_validator("min_frequency")
    @classmethod
    def _check_min_frequency(cls, value):
        """A count >= 1 or a fraction in (0, 1), as scikit-learn's OneHotEncoder takes it."""
        if isinstance(value, int) and value < 1:
            raise ValueError("a count must be >= 1")
        if isinstance(value, float) and not 0 < value < 1:
            raise ValueError("a fraction must lie strictly between 0 and 1")
        return value


class TrainConfig(_Section):
    """The model pipeline: outliers, features, scaling, PCA, model."""

    seed: int = 42
    outliers: OutliersConfig = OutliersConfig()
    features: FeaturesConfig = FeaturesConfig()
    scaling: Literal["none", "standard", "robust"] = "standard"
    pca: PcaConfig = PcaConfig()
    categories: CategoriesConfig = CategoriesConfig()
    model: Literal["logreg", "rf", "hgb", "scorecard"] = "logreg"
    # Recalibration of the model's scores, fitted on out-of-fold predictions of the train split
    # and saved inside the pipeline: none | sigmoid (Platt) | isotonic.
    calibration: Literal["none", "sigmoid", "isotonic"] = "none"
    logreg: LogregConfig = LogregConfig()
    rf: RfConfig = RfConfig()
    hgb: HgbConfig = HgbConfig()
    # Columns declared in fairness.protected stay out of the model's features (the pipeline
    # still carries them for the fairness analysis); false keeps them in, flagged everywhere.
    exclude_protected: bool = True
    # Filled from fairness.protected when exclude_protected is true (kept in model.json so that
    # cross-validation refits exactly the trained model); extra columns may be listed by hand.
    excluded: tuple[str, ...] = ()
    scorecard: ScorecardConfig = ScorecardConfig()

    @model_validator(mode="after")
    def _check_scorecard(self):
        """A scorecard's probability is read from its points: no recalibration, no PCA."""
        if self.model == "scorecard" and (self.calibration != "none" or self.pca.n_components):
            raise ValueError("model scorecard needs calibration: none and pca.n_components: null")
        return self


class EvaluateConfig(_Section):
    """Evaluation: cross-validation, decision threshold, business costs, calibration buckets."""

    cv_folds: int = Field(5, ge=2)
    threshold: float | Literal["cost", "bayes"] = "cost"
    cost_fn: float = Field(5.0, ge=0)
    cost_fp: float = Field(1.0, ge=0)
    grades: list[float] = Field(default_factory=list)
    bootstrap: int = Field(1000, ge=0)
    permutation_repeats: int = Field(5, ge=1)
    seed: int = 42

    @field_validator("threshold")
    @classmethod
    def _check_threshold(cls, value):
        """A probability, "cost" (tuned out of fold) or "bayes" (from the costs alone)."""
        if isinstance(value, float) and not 0 <= value <= 1:
            raise ValueError("must lie in [0, 1] or be 'cost' or 'bayes'")
        return value

    @field_validator("grades")
    @classmethod
    def _check_grades(cls, value):
        """PD cut-offs of the rating grades: increasing, inside (0, 1)."""
        if any(not 0 < cut < 1 for cut in value):
            raise ValueError("each PD cut-off must lie strictly between 0 and 1")
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError("PD cut-offs must be strictly increasing")
        return value

    @model_validator(mode="after")
    def _check_costs(self):
        """The Bayes threshold cost_fp / (cost_fp + cost_fn) needs one cost above zero."""
        if self.cost_fn + self.cost_fp <= 0:
            raise ValueError("cost_fn and cost_fp cannot both be 0")
        return self


class DriftConfig(_Section):
    """Drift verdicts: method per column type, thresholds, minimum sample size (read by `drift`)."""

    numeric_method: Literal["psi", "ks", "wasserstein"] = "psi"
    categorical_method: Literal["psi", "chi2", "jensenshannon"] = "psi"
    psi_warning: float = Field(0.10, gt=0)
    psi_alert: float = Field(0.25, gt=0)
    missing_warning: float = Field(0.02, gt=0, le=1)
    missing_alert: float = Field(0.05, gt=0, le=1)
    unseen_warning: float = Field(0.01, gt=0, le=1)
    unseen_alert: float = Field(0.05, gt=0, le=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    multiple_testing: Literal["holm", "bh", "none"] = "holm"
    distance_threshold: float = Field(0.1, gt=0)
    min_rows: int = Field(1, ge=1)  # a floor only: the power guard decides (kaizen.drift.power)
    min_power: float = Field(0.8, gt=0, lt=1)  # stable needs this power at the warning effect
    dataset_share: float = Field(0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _check_order(self):
        """A warning threshold cannot exceed its alert threshold."""
        for name in ("psi", "missing", "unseen"):
            if getattr(self, f"{name}_warning") > getattr(self, f"{name}_alert"):
                raise ValueError(f"{name}_warning must not exceed {name}_alert")
        return self


class MonitorConfig(_Section):
    """Production monitoring of stored events (read by `kaizen monitor`, not by a DVC stage).

    Warning/critical pairs are absolute changes against the training reference unless said
    otherwise; a signal is only judged on enough events (else "insufficient data")."""

    min_events: int = Field(500, ge=1)  # events for estimates and the refusal rate
    min_labelled: int = Field(300, ge=1)  # matured labelled events needed for realised performance
    min_defaults: int = Field(20, ge=1)  # ... of which defaults (AUC, calibration need both)
    outcome_window_days: int = Field(365, ge=0)  # younger events' outcomes are counted, not judged
    persistence: int = Field(2, ge=1)  # consecutive windows over the critical threshold
    cooldown_hours: float = Field(24.0, ge=0)  # re-alert a still-breaching signal after this
    auc_drop_warning: float = Field(0.03, gt=0, lt=1)  # estimated ROC AUC below the evaluated one
    auc_drop_critical: float = Field(0.05, gt=0, lt=1)
    auc_test_warning: float = Field(0.05, gt=0, lt=1)  # p-value of the AUC-decline test (ECB)
    auc_test_critical: float = Field(0.01, gt=0, lt=1)
    default_rate_warning: float = Field(0.03, gt=0, lt=1)  # expected default rate change
    default_rate_critical: float = Field(0.06, gt=0, lt=1)
    decision_rate_warning: float = Field(0.05, gt=0, lt=1)  # refusal rate change
    decision_rate_critical: float = Field(0.10, gt=0, lt=1)
    cost_warning: float = Field(0.10, gt=0)  # relative increase of the cost per application
    cost_critical: float = Field(0.25, gt=0)
    calibration_warning: float = Field(0.05, gt=0, lt=1)  # Hosmer-Lemeshow p over the grades
    calibration_critical: float = Field(0.01, gt=0, lt=1)
    estimate_error_warning: float = Field(0.05, gt=0, lt=1)  # |estimated - realised| ROC AUC
    volume_warning: float = Field(0.5, gt=0, lt=1)  # window events / median of recent windows
    grades: int = Field(7, ge=2, le=50)  # score grades for calibration (test-split quantiles)
    history: int = Field(30, ge=1)  # past runs shown in the trend charts
    runbook: str = "docs/monitoring.md#signals"  # link sent with every alert
    webhook_retries: int = Field(3, ge=0, le=10)
    webhook_backoff: float = Field(1.0, ge=0)  # seconds before the first retry, doubled each time
    webhook_timeout: float = Field(5.0, gt=0)
    # Monitoring at scale (kaizen.sketches): `sketch` judges input drift on the daily
    # profiles stored in the event database instead of every event's inputs; `exact` reads
    # them all. sketch_k: the KLL sketches' size (rank error at 99 %: 0.14 % at 2000, 0.28 % at
    # 1000), DataSketches' bounds 8-65535.
    mode: Literal["exact", "sketch"] = "exact"
    sketch_k: int = Field(2000, ge=8, le=65535)

    @model_validator(mode="after")
    def _check_order(self):
        """Warning before critical: drops and changes grow, p-values shrink."""
        for name in ("auc_drop", "default_rate", "decision_rate", "cost"):
            if getattr(self, f"{name}_warning") > getattr(self, f"{name}_critical"):
                raise ValueError(f"{name}_warning must not exceed {name}_critical")
        for name in ("auc_test", "calibration"):
            if getattr(self, f"{name}_warning") < getattr(self, f"{name}_critical"):
                raise ValueError(f"{name}_critical must not exceed {name}_warning (p-values)")
        return self


class ReportConfig(_Section):
    """The pull-request report (`kaizen report`): when a change matters."""

    # A significant ROC AUC difference smaller than this is "below the materiality threshold".
    min_delta_auc: float = Field(0.005, ge=0)
    # Hosmer-Lemeshow p-value below which the report flags a calibration failure.
    calibration_alpha: float = Field(0.05, gt=0, lt=1)


class BundleConfig(_Section):
    """The deployable bundle (`models/bundle/`)."""

    # Applicant rows of the reference part copied into the bundle (seeded sample): personal
    # data, off by default; the reference profile (per-feature distributions) is always there.
    reference_rows: int = Field(0, ge=0)


class MonitorParams(_Section):
    """What `kaizen monitor` reads: costs, drift methods and thresholds, monitor thresholds.
    The bundle carries the ones it was built with, so a deployment needs no params.yaml."""

    evaluate: EvaluateConfig = EvaluateConfig()
    drift: DriftConfig = DriftConfig()
    monitor: MonitorConfig = MonitorConfig()


class Params(_Section):
    """The whole `params.yaml`."""

    data: DataConfig
    prepare: PrepareConfig = PrepareConfig()
    train: TrainConfig = TrainConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    drift: DriftConfig = DriftConfig()
    bundle: BundleConfig = BundleConfig()
    report: ReportConfig = ReportConfig()
    monitor: MonitorConfig = MonitorConfig()
    fairness: FairnessConfig = FairnessConfig()
    model_card: ModelCardConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _exclude_protected(cls, data):
        """train.excluded gains the fairness.protected columns when train.exclude_protected."""
        if not isinstance(data, dict):
            return data
        train, fairness = data.get("train") or {}, data.get("fairness") or {}
        if not isinstance(train, dict) or not isinstance(fairness, dict):
            return data
        declared = fairness.get("protected") or []
        if train.get("exclude_protected", True) is not True or not isinstance(declared, list):
            return data
        columns = [i["column"] for i in declared if isinstance(i, dict) and "column" in i]
        listed = train.get("excluded") or []
        if not isinstance(listed, (list, tuple)):
            return data
        merged = list(dict.fromkeys([*listed, *columns]))
        return {**data, "train": {**train, "excluded": merged}}


def _format_error(path: Path, error: ValidationError) -> str:
    """One line naming the first offending key."""
    first = error.errors()[0]
    # pydantic appends the union branch name (e.g. "int", "literal['none']"); keep the key only.
    keys = [part for part in first["loc"] if not str(part).startswith(("literal[", "function-"))]
    # A discriminated union puts the tag in the location (data.split.row.start): drop it.
    keys = [
        part for i, part in enumerate(keys) if not (i and keys[i - 1] == "split" and part in TAGS)
    ]
    loc = ".".join(str(part) for part in keys if str(part) not in {"int", "float", "str", "bool"})
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key (typo?)"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    return f"{path}: {loc}: {message}{suffix}"


def parse_params(raw: object, source: str | Path = "params.yaml") -> Params:
    """Validate a parsed params mapping."""
    if not isinstance(raw, dict):
        raise KaizenError(f"{source}: expected a mapping of sections at the top level")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise KaizenError(_format_error(Path(source), exc)) from None
