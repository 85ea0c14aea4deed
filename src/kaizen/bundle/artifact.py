"""The bundle: the one deployable unit that training produces and production reads.

`models/bundle/` holds the fitted pipeline (`model.joblib`), the test split's per-row scores
(`test_scores.parquet`: row, score, label, for performance estimation) and `bundle.json`: the
input schema and known categories, the decision threshold and the rule that chose it, the
evaluated figures production compares against, the reference profile for drift
(`bundle.profile`), the recalibration map of the scores (`bundle.recalibration`, fitted on the
test split, read by the monitor's performance estimate), library versions, the training data's
SHA-256 and every other file's SHA-256. Loading checks every hash once; nothing else of the
workspace is read by `serve`, `predict`, `monitor`, `simulate-traffic`, `events export` or
`mlflow log`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kaizen import KaizenError
from kaizen.bundle import scoring
from kaizen.bundle.profile import FeatureProfile
from kaizen.bundle.recalibration import Recalibration
from kaizen.bundle.recalibration import fit as fit_recalibration
from kaizen.config import MonitorParams
from kaizen.io import files
from kaizen.pipeline.data import Schema
from kaizen.pipeline.ratios import Ratio, ratios_of

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

FORMAT_VERSION = 1
INFO = "bundle.json"
MODEL = "model.joblib"
TEST_SCORES = "test_scores.parquet"
REFERENCE_ROWS = "reference_rows.parquet"  # only with `bundle.reference_rows` > 0: personal data
QUANTILES = tuple(np.round(np.linspace(0, 1, 21), 2))
RULES = {
    "cost": "cost-optimal on the out-of-fold scores of the train split (evaluate.threshold: cost)",
    "bayes": "cost_fp / (cost_fp + cost_fn) (evaluate.threshold: bayes)",
    "fixed": "set in params.yaml (evaluate.threshold: a number)",
}


class Frozen(BaseModel):
    """Immutable, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Threshold(Frozen):
    """The decision threshold (refuse when score >= value) and the rule that chose it."""

    value: float = Field(ge=0, le=1)
    rule: Literal["cost", "bayes", "fixed"]
    description: str


class Evaluated(Frozen):
    """The evaluated figures production compares against (test split unless named)."""

    test: dict[str, Any]  # evaluate's test metrics, as metrics/evaluate/metrics.json has them
    cv: dict[str, Any]  # cross-validated figures of the train split
    rows: int
    roc_auc: float
    roc_auc_se: float  # DeLong
    default_rate: float
    refusal_rate: float  # share of test scores >= the threshold
    score_quantiles: list[float]  # 0 %, 5 %, …, 100 % of the test scores
    calibration: list[dict[str, Any]]  # by score bucket or grade (evaluate's calibration table)


class BundleInfo(Frozen):
    """`bundle.json`."""

    format_version: Literal[1] = 1  # FORMAT_VERSION
    version: str  # the model's short SHA-256: the `model_version` of every event it scores
    schema_version: str
    model: dict[str, Any]  # the train stage's model metadata: schema, categories, reasons' base
    threshold: Threshold
    evaluated: Evaluated
    profile: dict[str, FeatureProfile]
    libraries: dict[str, str]
    train_sha256: str
    monitoring: dict[str, Any]  # params.yaml's evaluate, drift, monitor sections (MonitorParams)
    files: dict[str, str]  # every other file of the bundle -> its SHA-256
    # scores -> probabilities, fitted on the test split (None: a bundle built before it existed)
    recalibration: Recalibration | None = None
    # the model's engineered ratios (name, numerator, denominator), so that the monitor needs
    # no unpickling (None: a bundle built before they were recorded: read from the model)
    ratios: list[tuple[str, str, str]] | None = None


@dataclass(frozen=True)
class Bundle:
    """A verified bundle; its model unpickled by `load`, or on first use with `model=False`."""

    path: Path
    info: BundleInfo

    @cached_property
    def model(self) -> scoring.Model:
        """The fitted pipeline with its schema, categories and explainer."""
        return scoring.unpickle(self.path / MODEL, self.info.model)

    @property
    def schema(self) -> Schema:
        """The model's input schema (from bundle.json: no unpickling)."""
        return Schema.from_dict(self.info.model["schema"])

    @property
    def ratios(self) -> tuple[Ratio, ...]:
        """The model's engineered ratios: bundle.json's, or the pipeline's for a bundle built
        before they were recorded."""
        recorded = self.info.ratios
        if recorded is None:
            return ratios_of(self.model.pipeline)
        return tuple((name, top, bottom) for name, top, bottom in list(recorded))

    @property
    def version(self) -> str:
        """The model version (short SHA-256 of model.joblib)."""
        return self.info.version

    def monitoring(self) -> MonitorParams:
        """The costs, drift and monitor settings the bundle was built with."""
        return MonitorParams.model_validate(self.info.monitoring)

    @property
    def threshold(self) -> float:
        """The decision threshold the bundle was evaluated with."""
        return self.info.threshold.value

    def decision_threshold(self, override: float | None) -> float:
        """KAIZEN_THRESHOLD (`override`, validated with the settings), or the threshold the
        bundle was evaluated with: the one threshold rule of serve, monitor and events."""
        return self.threshold if override is None else override

    def test_scores(self) -> pd.DataFrame:
        """The test split's row, score and label (checked at load)."""
        return files.read_parquet(self.path / TEST_SCORES)


def threshold_rule(setting: float | str, value: float) -> Threshold:
    """The threshold with the `evaluate.threshold` rule that chose it."""
    rule: Literal["cost", "bayes", "fixed"] = "fixed"
    if setting == "cost":
        rule = "cost"
    elif setting == "bayes":
        rule = "bayes"
    return Threshold(value=value, rule=rule, description=RULES[rule])


def evaluated_figures(
    metrics: dict[str, Any],
    test: pd.DataFrame,
    calibration: list[dict[str, Any]],
    threshold: float,
) -> Evaluated:
    """What production compares against, from evaluate's metrics and the test scores."""
    # pylint: disable-next=import-outside-toplevel  # scikit-learn: bundling only, not loading
    from kaizen.pipeline.metrics import delong_se

    scores, labels = test["score"].to_numpy(), test["label"].to_numpy()
    return Evaluated(
        test=metrics["test"],
        cv=metrics.get("cv", {}),
        rows=len(test),
        roc_auc=float(metrics["test"]["roc_auc"]),
        roc_auc_se=_finite(delong_se(labels, scores)),
        default_rate=float(np.mean(labels)) if len(labels) else math.nan,
        refusal_rate=float(np.mean(scores >= threshold)) if len(scores) else math.nan,
        score_quantiles=np.quantile(scores, QUANTILES).round(6).tolist() if len(scores) else [],
        calibration=calibration,
    )


def describe(  # pylint: disable=too-many-arguments
    model: scoring.Model,
    metadata: dict[str, Any],
    *,
    evaluated: dict[str, Any],
    setting: float | str,
    test: pd.DataFrame,
    calibration: list[dict[str, Any]],
    profiled: dict[str, FeatureProfile],
    monitoring: dict[str, Any],
) -> dict[str, Any]:
    """bundle.json's content (without the file hashes `save` adds)."""
    threshold = threshold_rule(setting, evaluated["threshold"])
    return {
        "version": model.version,
        "schema_version": model.schema_version,
        "model": metadata,
        "threshold": threshold,
        "evaluated": evaluated_figures(evaluated, test, calibration, threshold.value),
        "profile": profiled,
        "libraries": metadata.get("versions", {}),
        "train_sha256": metadata["train_sha256"],
        "monitoring": monitoring,
        "recalibration": fit_recalibration(test["score"].to_numpy(), test["label"].to_numpy()),
        "ratios": list(ratios_of(model.pipeline)),
    }


def _finite(value: float) -> float:
    """The s.e., or a one-line error: JSON has no NaN, and production needs the figure."""
    if not math.isfinite(value):
        raise KaizenError("bundle: the test split needs both classes for the AUC's s.e.")
    return float(value)


def save(
    folder: Path,
    pipeline_file: str | Path,
    info: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    *,
    texts: dict[str, str] | None = None,
    copies: dict[str, str | Path] | None = None,
) -> None:
    """Write the bundle into `folder` (an empty temporary folder: the caller renames it): the
    model file copied, each frame as Parquet, `texts` (more files by name: a scorecard's SQL)
    and `copies` (bundle name -> file: the model card), then bundle.json with every file's
    SHA-256. Files get the umask's permissions (an image's non-root user reads them), except
    the optional applicant rows (personal data: 0600)."""
    folder = Path(folder)
    files.copy_file(pipeline_file, folder / MODEL)
    for name, frame in frames.items():
        files.write_parquet(frame, folder / name)
    for name, content in (texts or {}).items():
        files.write_text(content, folder / name)
    for name, source in (copies or {}).items():  # e.g. the model card, hashed like the rest
        files.copy_file(source, folder / name)
    listed = [MODEL, *frames, *(texts or {}), *(copies or {})]
    hashes = {name: files.file_sha256(folder / name) for name in listed}
    if hashes[MODEL] != info["model"]["model_sha256"]:
        raise KaizenError(f"{pipeline_file}: SHA-256 differs from its model.json (rerun train)")
    document = BundleInfo.model_validate({**info, "files": hashes})
    files.write_json(document.model_dump(mode="json"), folder / INFO)
    for name in [INFO, *hashes]:  # readable as the umask says, but applicant rows stay 0600
        if name != REFERENCE_ROWS:
            files.shared(folder / name)
    files.shared(folder)


def verify(folder: str | Path) -> BundleInfo:
    """`bundle.json`, validated, once every file it lists has its recorded SHA-256."""
    folder = Path(folder)
    path = folder / INFO
    if not path.is_file():
        raise KaizenError(f"{folder}: not a bundle (no {INFO}; run `dvc repro bundle`)")
    try:
        info = BundleInfo.model_validate(files.read_json(path))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "document"
        raise KaizenError(f"{path}: {where}: {error['msg']}") from None
    for name, digest in info.files.items():
        if not (folder / name).is_file():
            raise KaizenError(f"{folder / name}: missing from the bundle")
        if files.file_sha256(folder / name) != digest:
            raise KaizenError(f"{folder / name}: SHA-256 differs from {INFO} (wrong or corrupt)")
    if info.files.get(MODEL) != info.model.get("model_sha256"):
        raise KaizenError(f"{path}: the model's SHA-256 differs from its metadata")
    return info


def unpack(folder: str | Path, info: BundleInfo) -> Bundle:
    """The bundle whose `bundle.json` `verify` returned, with its pipeline unpickled."""
    bundle = Bundle(Path(folder), info)
    _ = bundle.model  # unpickled now: a corrupt model fails at start, not at the first request
    return bundle


def load(folder: str | Path, *, model: bool = True) -> Bundle:
    """Verify every hash of the bundle in `folder`, then load it (the pipeline unpickled on
    first use when not `model`: the monitor reads the rest and imports no scikit-learn);
    one-line errors."""
    info = verify(folder)
    return unpack(folder, info) if model else Bundle(Path(folder), info)


def pipeline_of(bundle: Bundle) -> Pipeline:
    """The fitted scikit-learn pipeline."""
    return bundle.model.pipeline
