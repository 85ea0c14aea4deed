"""The drift report's typed records: the verdict words and their order, one feature's three
judged components (`FeatureDrift`), the dataset's report (`DriftReport`) and its rounding for
JSON. `kaizen.drift.verdicts` computes them and re-exports these names."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
import numpy as np

from kaizen.config import DriftConfig

DRIFT, WARNING, STABLE, INSUFFICIENT = "drift", "warning", "stable", "insufficient data"
SEVERITY = {DRIFT: 0, WARNING: 1, INSUFFICIENT: 2, STABLE: 3}
COMPONENTS = ("distribution", "missing", "unseen")
DISTANCES = {"wasserstein": "wasserstein_normed", "jensenshannon": "jensenshannon"}
DIGITS = 6
BINS = "_reference_bins"  # a component's reference counts, read for its power, then dropped


@dataclass(frozen=True)
class FeatureDrift:  # pylint: disable=too-many-instance-attributes
    """Drift statistics and verdict of one feature (the `features.json` record).

    `components` holds, per question (distribution, missing, unseen), the effect, the raw and
    the adjusted p-value and the component's verdict; `flags` lists the flagged components.
    """

    feature: str
    kind: str
    psi: float | None
    test: str
    p_value: float | None
    distance: float | None
    distance_name: str
    missing_reference: float | None
    missing_current: float | None
    missing_change: float | None
    unseen: list[str] = field(default_factory=list)
    unseen_share: float | None = None
    n_reference: int = 0
    n_current: int = 0
    components: dict[str, dict] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    verdict: str = STABLE
    method: str = "psi"

    def to_dict(self) -> dict:
        """JSON-ready record, floats rounded."""
        return round_value(asdict(self))


@dataclass(frozen=True)
class DriftReport:  # pylint: disable=too-many-instance-attributes
    """Everything the drift stage writes: dataset facts, features by severity, score drift."""

    verdict: str
    rows_reference: int
    rows_current: int
    features: list[FeatureDrift]
    score_psi: float | None
    score_verdict: str
    target_rate_reference: float | None
    target_rate_current: float | None
    config: DriftConfig
    score_p_value: float | None = None

    def metrics(self) -> dict:
        """The `metrics.json` content."""
        counts = {verdict: 0 for verdict in SEVERITY}
        for item in self.features:
            counts[item.verdict] += 1
        total = len(self.features)
        return {
            "verdict": self.verdict,
            "rows_reference": self.rows_reference,
            "rows_current": self.rows_current,
            "features_total": total,
            "features_drift": counts[DRIFT],
            "features_warning": counts[WARNING],
            "drifted_share": round_value(counts[DRIFT] / total if total else 0.0),
            "score_psi": round_value(self.score_psi),
            "score_verdict": self.score_verdict,
            "target_rate_reference": round_value(self.target_rate_reference),
            "target_rate_current": round_value(self.target_rate_current),
            "psi": {item.feature: round_value(item.psi) for item in self.features},
        }


def round_value(value):
    """Round floats to DIGITS (recursively); NaN and infinities become None (strict JSON)."""
    if isinstance(value, dict):
        return {key: round_value(item) for key, item in value.items()}
    if isinstance(value, (float, np.floating)):
        return round(float(value), DIGITS) if math.isfinite(value) else None
    return value
