"""POST /predict: score a batch, store every event, then answer (nothing stored = 503)."""

# No `from __future__ import annotations`: FastAPI reads the generated body model from the
# endpoint's annotation at declaration time.

import datetime as dt
import time
import uuid
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from kaizen.data import coerce_features
from kaizen.serving.payloads import PredictResponse
from kaizen.serving.service import Service
from kaizen.serving.store import StoreError

ERRORS = {
    413: {"description": "more applications than KAIZEN_MAX_BATCH"},
    422: {"description": "an application is invalid (the field and the reason are named)"},
    503: {"description": "the event store is unavailable: nothing was scored for good"},
}


def score(service: Service, applications: list[BaseModel]) -> pd.DataFrame:
    """Score, decision, reasons and unseen categories per application, in order."""
    model = service.model
    raw = pd.DataFrame.from_records(
        [application.model_dump() for application in applications], columns=model.schema.features
    )
    features = coerce_features(raw, model.schema, "request")
    scores = model.scores(features)
    k = service.settings.reasons
    reasons = model.reasons(features, k) if k else [[] for _ in applications]
    unseen = model.unseen(features)
    return pd.DataFrame(
        {
            "score": scores,
            "decision": np.where(scores >= service.threshold, "refuse", "accept"),
            "reasons": [[{"feature": f, "contribution": c} for f, c in row] for row in reasons],
            "unseen": [
                {name: str(features.iloc[i][name]) for name in unseen.columns[flags]}
                for i, flags in enumerate(unseen.to_numpy())
            ],
            "inputs": raw.to_dict("records"),
        }
    )


def events(service: Service, scored: pd.DataFrame, request: Request) -> list[dict[str, Any]]:
    """The rows to store: one per application, PII scrubbed."""
    now = dt.datetime.now(dt.timezone.utc)
    latency_ms = (time.perf_counter() - request.scope["state"]["started"]) * 1000
    model = service.model
    pii = sorted(service.scrub.fields)
    return [
        {
            "prediction_id": str(uuid.uuid4()),
            "created_at": now,
            "request_id": request.scope["state"]["request_id"],
            "model_version": model.version,
            "schema_version": model.schema_version,
            "inputs": service.scrub(_plain(row.inputs)),
            "pii_fields": pii,
            "score": float(row.score),
            "threshold": service.threshold,
            "decision": row.decision,
            "reasons": row.reasons,
            "unseen": row.unseen,
            "latency_ms": round(latency_ms, 3),
        }
        for row in scored.itertuples()
    ]


def _plain(inputs: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready inputs: NaN (a null numeric) back to None."""
    return {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in inputs.items()}


def router(request_model: type[BaseModel]) -> APIRouter:
    """The predict route for this schema's request model."""
    api = APIRouter(tags=["predict"])

    @api.post("/predict", response_model=PredictResponse, responses=ERRORS)
    def predict(body: request_model, request: Request) -> dict:  # type: ignore[valid-type]
        """Score applications; each decision is stored before the response is sent."""
        service: Service = request.app.state.service
        applications = body.applications
        limit = service.settings.max_batch
        if len(applications) > limit:
            raise HTTPException(
                413, f"applications: {len(applications)} in one request, KAIZEN_MAX_BATCH={limit}"
            )
        scored = score(service, applications)
        rows = events(service, scored, request)
        try:
            service.store.record(rows)
        except StoreError:
            service.metrics.store_errors.labels("record").inc()
            raise HTTPException(503, "event store unavailable: nothing was recorded") from None
        metrics = service.metrics
        metrics.stored.inc(len(rows))
        for row in rows:
            metrics.scores.observe(row["score"])
            metrics.decisions.labels(row["decision"]).inc()
        return {
            "predictions": [
                {
                    "prediction_id": row["prediction_id"],
                    "score": row["score"],
                    "decision": row["decision"],
                    "reasons": row["reasons"],
                    "unseen": row["unseen"],
                    "model_version": row["model_version"],
                }
                for row in rows
            ]
        }

    return api
