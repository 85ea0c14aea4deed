"""What the routes share, opened once at start-up: the loaded and hash-checked model, the
decision threshold, the event store (reachable and initialised), the PII policy, the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from kaizen import KaizenError, files, scoring
from kaizen.events import migrate
from kaizen.events.engine import create_engine
from kaizen.serving.metrics import Metrics
from kaizen.serving.pii import Scrubber
from kaizen.serving.settings import Settings


@dataclass
class Service:  # pylint: disable=too-many-instance-attributes  # what every route needs
    """What the routes share: the loaded model, the decision threshold, the store, metrics."""

    settings: Settings
    model: scoring.Model
    threshold: float
    engine: Engine  # the event store
    scrub: Scrubber
    metrics: Metrics

    @classmethod
    def open(cls, settings: Settings) -> "Service":
        """Load and check the model, resolve the threshold, reach the store; one-line errors."""
        model = scoring.load(settings.model)
        scrub = Scrubber.create(
            settings.pii_fields,
            settings.pii_mode,
            settings.pii_salt.get_secret_value() if settings.pii_salt else None,
            model.schema.features,
        )
        engine = create_engine(settings.db)
        migrate.require_head(engine)
        return cls(settings, model, decision_threshold(settings), engine, scrub, Metrics())

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()


def decision_threshold(settings: Settings) -> float:
    """KAIZEN_THRESHOLD, or the threshold the model was evaluated with."""
    if settings.threshold is not None:
        return settings.threshold
    value = files.read_json(settings.metrics).get("threshold")
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise KaizenError(f"{settings.metrics}: no 'threshold' in [0, 1] (set KAIZEN_THRESHOLD)")
    return float(value)
