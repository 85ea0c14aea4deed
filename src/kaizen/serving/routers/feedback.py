"""POST /feedback: the observed outcome of an earlier prediction (bearer token required).

The body is validated from its bytes (strict JSON, then the strict Feedback model), after the
token: an anonymous client learns nothing about what a valid body is. The time checks need the
prediction: an unknown id is a 404 before `observed_at` is judged (422)."""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kaizen.events import predictions
from kaizen.events.engine import StoreError
from kaizen.events.predictions import ImplausibleTime, OutcomeConflict, UnknownPrediction
from kaizen.serving import validation
from kaizen.serving.payloads import Feedback, FeedbackResponse, Invalid, Problem
from kaizen.serving.service import Service

log = logging.getLogger(__name__)
BEARER = HTTPBearer(auto_error=False)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing or wrong bearer token"},
    403: {"model": Problem, "description": "feedback disabled (no KAIZEN_FEEDBACK_TOKEN)"},
    404: {"model": Problem, "description": "unknown prediction id"},
    409: {"model": Problem, "description": "a different outcome is already stored"},
    422: {
        "model": Invalid,
        "description": "the body is not JSON or not a valid feedback; observed_at before the "
        "prediction or in the future",
    },
    503: {"model": Problem, "description": "the event store is unavailable"},
}
BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Feedback"}},
    },
}


def authorised(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(BEARER)
) -> None:
    """The bearer token must equal KAIZEN_FEEDBACK_TOKEN (constant-time comparison)."""
    token = request.app.state.service.settings.feedback_token
    if token is None:
        raise HTTPException(403, "feedback is disabled: the server has no KAIZEN_FEEDBACK_TOKEN")
    given = credentials.credentials.encode() if credentials else b""
    if not hmac.compare_digest(given, token.get_secret_value().encode()):
        raise HTTPException(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


def router() -> APIRouter:
    """The feedback route."""
    api = APIRouter(tags=["feedback"])

    @api.post(
        "/feedback",
        operation_id="feedback",
        response_model=FeedbackResponse,
        responses=ERRORS,
        dependencies=[Depends(authorised)],
        openapi_extra={"requestBody": BODY},
    )
    async def feedback(request: Request) -> dict[str, Any]:
        """Store an outcome once; the same outcome again is idempotent, another one is 409."""
        body: Feedback = validation.model(Feedback, await request.body())
        request_id = request.scope["state"]["request_id"]
        return await run_in_threadpool(store, request.app.state.service, body, request_id)

    return api


def store(service: Service, body: Feedback, request_id: str = "-") -> dict[str, Any]:
    """The outcome stored (or found already stored); HTTP errors for the refusals."""
    skew = dt.timedelta(seconds=service.settings.clock_skew)
    try:
        stored = predictions.add_feedback(
            service.engine,
            str(body.prediction_id),
            body.outcome,
            body.observed_at,
            dt.datetime.now(dt.timezone.utc),
            skew=skew,
        )
    except UnknownPrediction:
        service.metrics.feedback.labels("unknown").inc()
        raise HTTPException(404, f"prediction_id: {body.prediction_id} is unknown") from None
    except ImplausibleTime as exc:
        service.metrics.feedback.labels("implausible").inc()
        problem = validation.error(["body", "observed_at"], "implausible_time", str(exc))
        raise validation.InvalidBody([problem]) from None
    except OutcomeConflict as exc:
        service.metrics.feedback.labels("conflict").inc()
        raise HTTPException(409, f"outcome: {exc}") from None
    except StoreError as exc:
        log.error("event store error, feedback not recorded [request %s]: %s", request_id, exc)
        service.metrics.store_errors.labels("feedback").inc()
        raise HTTPException(503, "event store unavailable: nothing was recorded") from None
    service.metrics.feedback.labels("created" if stored.created else "repeated").inc()
    return {
        "prediction_id": stored.prediction_id,
        "outcome": stored.outcome,
        "observed_at": stored.observed_at,
        "created": stored.created,
    }
