"""Prometheus metrics of one application, in a registry of its own (no global state: tests and
several apps in one process do not collide). One process serves; with several worker processes,
prometheus-client's multiprocess mode would be needed (PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

SCORE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))  # 0.05 … 1.0
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


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
        self.scores = Histogram(
            "kaizen_score", "Scores returned", buckets=SCORE_BUCKETS, registry=registry
        )
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
