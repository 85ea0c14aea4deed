"""What the routes share, opened once at start-up: the loaded and hash-checked bundle, the
decision threshold, the event store (reachable and initialised), the PII policy, the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from kaizen.bundle import artifact, scoring
from kaizen.runtime import Monitor, Serving
from kaizen.serving.metrics import Metrics
from kaizen.serving.pii import Scrubber
from kaizen.serving.store import EventStore


@dataclass
class Service:  # pylint: disable=too-many-instance-attributes  # what every route needs
    """What the routes share: the loaded model, the decision threshold, the store, metrics."""

    settings: Serving
    bundle: artifact.Bundle
    model: scoring.Model
    threshold: float
    store: EventStore
    scrub: Scrubber
    metrics: Metrics

    @classmethod
    def open(cls, settings: Serving) -> "Service":
        """Load and check the bundle, resolve the threshold, reach the store; one-line errors."""
        bundle = artifact.load(settings.bundle)
        model = bundle.model
        scrub = Scrubber.create(
            settings.pii_fields,
            settings.pii_mode,
            settings.pii_salt.get_secret_value() if settings.pii_salt else None,
            model.schema.features,
        )
        store = EventStore(settings.db.get_secret_value())
        store.check_ready()
        threshold = decision_threshold(settings, bundle)
        return cls(settings, bundle, model, threshold, store, scrub, Metrics())

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def decision_threshold(settings: Serving | Monitor, bundle: artifact.Bundle) -> float:
    """KAIZEN_THRESHOLD (validated with the settings), or the threshold the bundle was
    evaluated with (validated with bundle.json): the one threshold rule of serve and monitor."""
    return settings.threshold if settings.threshold is not None else bundle.threshold
