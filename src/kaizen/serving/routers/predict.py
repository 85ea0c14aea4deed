"""POST /predict: score a batch, store every event, then answer (nothing stored = 503)."""

# No `from __future__ import annotations`: FastAPI reads the generated body model from the
# endpoint's annotation at declaration time.

import datetime as dt
import time
import uuid
from typing import Any

import numpy as np
import orjson
import pandas as pd
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from kaizen.data import Schema
from kaizen.serving.payloads import PredictResponse
from kaizen.serving.service import Service
from kaizen.serving.store import StoreError

ERRORS = {
    413: {"description": "more applications than KAIZEN_MAX_BATCH"},
    422: {"description": "an application is invalid (the field and the reason are named)"},
    503: {"description": "the event store is unavailable: nothing was scored for good"},
}


def features(schema: Schema, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The model's input frame from validated applications: numbers as float64 (null -> NaN),
    categories as objects (null -> NaN), as `kaizen.data.coerce_features` types a CSV."""
    columns = {
        name: np.array([np.nan if r[name] is None else r[name] for r in rows], dtype="float64")
        for name in schema.numeric
    }
    for name in schema.categorical:
        values = np.array([np.nan if r[name] is None else r[name].strip() for r in rows], object)
        columns[name] = values
    return pd.DataFrame(columns, columns=schema.features)


def score(service: Service, applications: list[BaseModel]) -> dict[str, list]:
    """Score, decision, reasons and unseen categories per application, in order."""
    model = service.model
    rows = [application.model_dump() for application in applications]
    frame = features(model.schema, rows)
    scores, reasons = model.assess(frame, service.settings.reasons)
    unseen: list[dict[str, str]] = [{} for _ in rows]
    for name, flags in model.unseen(frame).items():
        for i in np.flatnonzero(flags.to_numpy()):
            unseen[i][name] = frame[name].iat[i]
    return {
        "inputs": rows,
        "score": scores.tolist(),
        "decision": np.where(scores >= service.threshold, "refuse", "accept").tolist(),
        "reasons": [[{"feature": f, "contribution": c} for f, c in row] for row in reasons],
        "unseen": unseen,
    }


def events(service: Service, scored: dict[str, list], request: Request) -> list[dict[str, Any]]:
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
            "inputs": service.scrub(inputs),
            "pii_fields": pii,
            "score": score_,
            "threshold": service.threshold,
            "decision": decision,
            "reasons": reasons,
            "unseen": unseen,
            "latency_ms": round(latency_ms, 3),
        }
        for inputs, score_, decision, reasons, unseen in zip(
            scored["inputs"],
            scored["score"],
            scored["decision"],
            scored["reasons"],
            scored["unseen"],
        )
    ]


def router(request_model: type[BaseModel]) -> APIRouter:
    """The predict route for this schema's request model."""
    api = APIRouter(tags=["predict"])

    @api.post("/predict", response_model=PredictResponse, responses=ERRORS)
    def predict(body: request_model, request: Request) -> Response:  # type: ignore[valid-type]
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
        # Built by hand (the same fields as PredictResponse, which documents them): FastAPI's
        # response validation costs more than scoring on a batch of 1,000.
        answer = [
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
        return Response(orjson.dumps({"predictions": answer}), media_type="application/json")

    return api
