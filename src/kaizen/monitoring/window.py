"""What a window of events is compared with (the training reference) and the window itself:
its events, which outcomes count (matured), and the facts a report states about both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kaizen.drift.statistics import Summary
from kaizen.bundle.recalibration import Recalibration
from kaizen.monitoring.performance import expected_auc


@dataclass(frozen=True)
class Reference:  # pylint: disable=too-many-instance-attributes
    """What a window is compared with: the training reference and the evaluated model."""

    features: pd.DataFrame  # reference part, inputs and engineered ratios
    numeric: list[str]
    categorical: list[str]
    scores: np.ndarray  # test-split scores (out-of-sample)
    labels: np.ndarray  # test-split outcomes
    threshold: float
    evaluated: dict  # evaluate's metrics.json (test part: roc_auc, cost, positive_rate)
    model_version: str = ""
    recalibration: Recalibration | None = None  # the bundle's score -> probability map

    def probabilities(self, scores) -> np.ndarray:
        """Scores as probabilities of default: recalibrated when the bundle has a map."""
        s = np.asarray(scores, dtype="float64")
        return s if self.recalibration is None else self.recalibration.apply(s)

    def estimated_auc(self, scores) -> float:
        """The CBPE ROC AUC of raw `scores` as the monitor estimates it (recalibrated): one
        estimator for the window, the test split and the labelled events, so that they compare
        like for like."""
        s = np.asarray(scores, dtype="float64")
        return expected_auc(self.probabilities(s), rank_by=s) if s.size else float("nan")


@dataclass(frozen=True)
class Window:
    """Events of one window: `frame` has score, decision, outcome, matured (whether the outcome
    can be judged: decided by the store's query, `kaizen.events.predictions.matured`) and the
    inputs."""

    frame: pd.DataFrame
    since: dt.datetime | None
    until: dt.datetime
    by_time: bool = True  # a time window (volume is judged) or the last N events (it is not)
    # monitor.mode sketch: the inputs' summarised daily profiles (then `frame` has no inputs)
    profile: Summary | None = None


def outcome_masks(window: Window) -> tuple[pd.Series, pd.Series]:
    """(labelled, judged): events with an outcome, and those whose outcome has matured."""
    frame = window.frame
    outcome = frame["outcome"] if "outcome" in frame else pd.Series(np.nan, index=frame.index)
    labelled = outcome.notna()
    return labelled, labelled & frame["matured"].astype(bool)


@dataclass(frozen=True)
class ReferenceFacts:  # pylint: disable=too-many-instance-attributes
    """The figures a window is compared with (test split: evaluate's metrics and scores)."""

    rows: int
    test_rows: int
    roc_auc: float | None
    cost: float | None
    default_rate: float
    refusal_rate: float
    threshold: float
    model_version: str
    estimated_auc: float | None = None  # the performance estimator applied to the test split


def reference_facts(reference: Reference, estimated_auc: float | None = None) -> ReferenceFacts:
    """The figures a window is compared with."""
    test = reference.evaluated.get("test", {})
    return ReferenceFacts(
        rows=int(len(reference.features)),
        test_rows=int(len(reference.scores)),
        roc_auc=test.get("roc_auc"),
        cost=test.get("cost"),
        default_rate=float(np.mean(reference.labels)),
        refusal_rate=float(np.mean(reference.scores >= reference.threshold)),
        threshold=reference.threshold,
        model_version=reference.model_version,
        estimated_auc=estimated_auc,
    )


@dataclass(frozen=True)
class WindowFacts:  # pylint: disable=too-many-instance-attributes
    """The window's bounds and counts (`since` None: the last N events, from the start)."""

    since: dt.datetime | None
    until: dt.datetime
    events: int
    labelled: int
    matured_labelled: int
    by_time: bool
    model_versions: list[str]


def window_facts(window: Window, labelled: pd.Series, judged: pd.Series) -> WindowFacts:
    """The window's bounds and counts."""
    frame = window.frame
    versions = frame["model_version"].dropna().unique().tolist() if "model_version" in frame else []
    return WindowFacts(
        since=window.since,
        until=window.until,
        events=len(frame),
        labelled=int(labelled.sum()),
        matured_labelled=int(judged.sum()),
        by_time=window.by_time,
        model_versions=sorted(str(version) for version in versions),
    )
