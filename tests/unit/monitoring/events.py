"""Stored prediction events made as the API makes them, for the monitor's tests."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd

from kaizen.events import migrate, predictions
from kaizen.events.engine import create_engine
from kaizen.events.predictions import PredictionRow


def events(
    features: pd.DataFrame,
    scores: np.ndarray,
    created_at: dt.datetime,
    threshold: float = 0.3,
    model_version: str = "v1",
) -> list[dict]:
    """One event per row, all created at `created_at` (plus a microsecond per row)."""
    records = features.astype(object).where(features.notna(), None).to_dict("records")
    return [
        {
            "prediction_id": str(uuid.UUID(int=index + 1 + int(created_at.timestamp()) * 10**6)),
            "created_at": created_at + dt.timedelta(microseconds=index),
            "request_id": f"r{index}",
            "model_version": model_version,
            "schema_version": "s1",
            "inputs": {
                key: (float(value) if isinstance(value, (int, float, np.number)) else value)
                for key, value in record.items()
            },
            "pii_fields": [],
            "score": float(score),
            "threshold": threshold,
            "decision": "refuse" if score >= threshold else "accept",
            "reasons": [],
            "unseen": {},
            "latency_ms": 1.0,
        }
        for index, (record, score) in enumerate(zip(records, scores))
    ]


def store_events(
    db: str,
    features: pd.DataFrame,
    scores: np.ndarray,
    created_at: dt.datetime,
    *,
    outcomes=None,
    threshold: float = 0.3,
    model_version: str = "v1",
) -> list[str]:
    """Initialise the store if needed, record the events (and outcomes); their ids."""
    engine = create_engine(db)
    migrate.upgrade(engine)
    made = events(features, scores, created_at, threshold, model_version)
    for start in range(0, len(made), 5000):
        predictions.insert(engine, [PredictionRow(**e) for e in made[start : start + 5000]])
    if outcomes is not None:
        for event, outcome in zip(made, outcomes):
            if pd.notna(outcome):
                predictions.add_feedback(
                    engine, event["prediction_id"], int(outcome), created_at, created_at
                )
    engine.dispose()
    return [event["prediction_id"] for event in made]
