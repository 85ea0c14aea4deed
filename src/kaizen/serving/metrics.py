"""Prometheus metrics of one application, in a registry of its own (no global state: tests and
several apps in one process do not collide). One process serves; with several worker processes,
prometheus-client's multiprocess mode would be needed (PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

SCORE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))  # 0.05 … 1.0
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class BatchHistogram(Collector):
    """A histogram without labels that takes a whole array per call (prometheus-client's
    `Histogram.observe` is one Python call per value: 3-4 ms for the scores of 1,000 rows)."""

    def __init__(
        self, name: str, documentation: str, buckets: tuple[float, ...], registry: CollectorRegistry
    ):
        self.name, self.documentation = name, documentation
        self.bounds = np.array(buckets, dtype="float64")
        self._counts = np.zeros(len(buckets) + 1, dtype="int64")  # the last one: above all
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe(self, values: ArrayLike) -> None:
        """Count every value in its bucket (`le`: the first upper bound >= the value)."""
        array = np.asarray(values, dtype="float64").ravel()
        counts = np.bincount(
            np.searchsorted(self.bounds, array, side="left"), minlength=len(self._counts)
        )
        with self._lock:
            self._counts += counts
            self._sum += float(array.sum())

    def collect(self) -> Iterator[HistogramMetricFamily]:
        """Cumulative buckets, `+Inf` last, and the sum."""
        with self._lock:
            cumulative, total = np.cumsum(self._counts).tolist(), self._sum
        bounds = [repr(float(bound)) for bound in self.bounds] + ["+Inf"]
        yield HistogramMetricFamily(
            self.name,
            self.documentation,
            buckets=list(zip(bounds, cumulative)),
            sum_value=total,
        )


@dataclass
class Metrics:  # pylint: disable=too-many-instance-attributes  # one attribute per metric
    """Every metric the API exports."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        registry = self.registry
        self.requests = Counter(
            "kaizen_requests", "HTTP requests", ["route", "method", "status"], registry=registry
        )
        self.latency = Histogram(
            "kaizen_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.scores = BatchHistogram("kaizen_score", "Scores returned", SCORE_BUCKETS, registry)
        self.decisions = Counter(
            "kaizen_decisions", "Decisions returned", ["decision"], registry=registry
        )
        self.stored = Counter("kaizen_events_stored", "Prediction events stored", registry=registry)
        self.store_errors = Counter(
            "kaizen_store_errors", "Failed event-store operations", ["operation"], registry=registry
        )
        self.feedback = Counter(
            "kaizen_feedback", "Feedback received", ["result"], registry=registry
        )
