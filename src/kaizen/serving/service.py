"""What the routes share, opened once at start-up: the loaded and hash-checked bundle, the
decision threshold, the event store (reachable and initialised), the PII policy, the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from kaizen.bundle import artifact, scoring
from kaizen.events import bundles, migrate
from kaizen.events.engine import EventEngine, create_engine
from kaizen.runtime import Serving
from kaizen.serving.metrics import Metrics
from kaizen.serving.pii import Scrubber


@dataclass
class Service:  # pylint: disable=too-many-instance-attributes  # what every route needs
    """What the routes share: the loaded model, the decision threshold, the store, metrics."""

    settings: Serving
    bundle: artifact.Bundle
    model: scoring.Model
    threshold: float
    engine: EventEngine  # the event store
    scrub: Scrubber
    metrics: Metrics

    @classmethod
    def open(cls, settings: Serving, bundle: artifact.Bundle | None = None) -> "Service":
        """Load and check the bundle (unless `bundle`: already loaded and checked), resolve the
        threshold, reach the store; one-line errors."""
        bundle = bundle or artifact.load(settings.bundle)
        model = bundle.model
        scrub = Scrubber.create(
            settings.pii_fields,
            settings.pii_mode,
            settings.pii_salt.get_secret_value() if settings.pii_salt else None,
            model.schema.features,
            bundle.ratios,
        )
        engine = create_engine(settings.db.get_secret_value())
        try:
            migrate.require_head(engine)
            # every served bundle is recorded in the event store with its test scores (idempotent)
            bundles.register(engine, bundle.info.model_dump(mode="json"), bundle.test_scores())
            threshold = bundle.decision_threshold(settings.threshold)
        except BaseException:
            engine.dispose()
            raise
        return cls(settings, bundle, model, threshold, engine, scrub, Metrics())

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()
