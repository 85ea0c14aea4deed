"""The typed report of one monitor run, from the computation (`signals.analyse`) to report.md,
metrics.prom, report.html (read by attribute) and to report.json and the event database (one
serialiser, `MonitorReport.to_dict`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np

from kaizen.drift.verdicts import DriftReport
from kaizen.monitoring.drift_signals import FEATURE
from kaizen.monitoring.levels import EXIT_CODES, Signal
from kaizen.monitoring.performance import Calibration, Estimate, Realised
from kaizen.monitoring.window import ReferenceFacts, WindowFacts

DIGITS = 6  # floats in report.json, as in the metrics files


@dataclass(frozen=True)
class ScoreHistogram:
    """Shares of the reference and window scores in equal bins on [0, 1]."""

    edges: list[float]
    reference: list[float]
    window: list[float]


@dataclass(frozen=True)
class TrendPoint:
    """One run in the trend chart: its window's end, estimated and realised ROC AUC, level."""

    at: dt.datetime | None
    estimated_auc: float | None
    estimated_auc_se: float | None
    realised_auc: float | None
    level: str | None


@dataclass(frozen=True)
class Charts:
    """What the charts of report.html draw besides the signals."""

    scores: ScoreHistogram
    history: list[TrendPoint]  # oldest first, this run last


@dataclass(frozen=True)
class ModelVersion:
    """A model version that scored events of the window: how many, and whether (and against
    what) they were judged; never against a bundle that did not score them."""

    version: str
    events: int
    judged: bool
    note: str  # "judged against its registered bundle", or why not


@dataclass(frozen=True)
class MonitorReport:  # pylint: disable=too-many-instance-attributes
    """Everything one monitor run found: the sections of the version that scored the newest
    event at the top level, every other judged version in `sections` (its signals named
    `<version>/<signal>` in the flat list alerts and the database read)."""

    level: str
    generated_at: dt.datetime
    window: WindowFacts
    signals: list[Signal]
    reference: ReferenceFacts
    estimated: Estimate
    realised: Realised | None
    calibration: Calibration
    drift: DriftReport
    charts: Charts
    notes: list[str] = field(default_factory=list)
    estimated_accepted: Estimate | None = None  # CBPE on the accepted applications only
    model_versions: list[ModelVersion] = field(default_factory=list)
    sections: list["MonitorReport"] = field(default_factory=list)  # other judged versions

    @property
    def exit_code(self) -> int:
        """2 when critical, else 0."""
        return EXIT_CODES.get(self.level, 0)

    @property
    def feature_rows(self) -> list[Signal]:
        """The per-feature drift signals, in the drift report's order (worst first)."""
        return [item for item in self.signals if item.name.startswith(FEATURE)]

    @property
    def version(self) -> str:
        """The model version this report (or section) judged."""
        return self.reference.model_version

    def all_signals(self) -> list[Signal]:
        """This version's signals, then each other section's as `<version>/<name>`."""
        out = list(self.signals)
        for section in self.sections:
            prefix = f"{section.version}/"
            out += [replace(item, name=prefix + item.name) for item in section.signals]
        return out

    def signal(self, name: str) -> Signal:
        """The signal called `name`."""
        return next(item for item in self.signals if item.name == name)

    def to_dict(self) -> dict[str, Any]:
        """report.json and the database's copy: JSON-ready, floats rounded, NaN as null."""
        return {
            "level": self.level,
            "exit_code": self.exit_code,
            "generated_at": _json(self.generated_at),
            "window": _json(self.window),
            "model_versions": _json(self.model_versions),
            "signals": _json(self.all_signals()),
            "reference": _json(self.reference),
            "estimated": _json(self.estimated),
            "estimated_accepted": _json(self.estimated_accepted),
            "realised": _json(self.realised),
            "calibration": _json(self.calibration),
            "drift": {
                **self.drift.metrics(),
                "features": _json(self.drift.features),
            },
            "charts": _json(self.charts),
            "notes": list(self.notes),
            "sections": [section.to_dict() for section in self.sections],
        }


def _json(value: Any) -> Any:
    """Dataclasses as dicts, datetimes as ISO text, numpy scalars as Python ones, floats rounded
    to DIGITS and non-finite ones as None, recursively."""
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _json(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, DIGITS) if math.isfinite(value) else None
    return value
