"""POST /feedback: the observed outcome of an earlier prediction (bearer token required)."""

from __future__ import annotations

import datetime as dt
import hmac
import logging

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kaizen.events import predictions
from kaizen.events.engine import StoreError
from kaizen.events.predictions import OutcomeConflict, UnknownPrediction
from kaizen.serving.payloads import Feedback, FeedbackResponse
from kaizen.serving.service import Service

log = logging.getLogger(__name__)
BEARER = HTTPBearer(auto_error=False)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong bearer token"},
    403: {"description": "feedback disabled (no KAIZEN_FEEDBACK_TOKEN)"},
    404: {"description": "unknown prediction id"},
    409: {"description": "a different outcome is already stored"},
    503: {"description": "the event store is unavailable"},
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
        response_model=FeedbackResponse,
        responses=ERRORS,
        dependencies=[Depends(authorised)],
    )
    def feedback(body: Feedback, request: Request) -> dict:
        """Store an outcome once; the same outcome again is idempotent, another one is 409."""
        service: Service = request.app.state.service
        try:
            stored = predictions.add_feedback(
                service.engine,
                str(body.prediction_id),
                body.outcome,
                body.observed_at,
                dt.datetime.now(dt.timezone.utc),
            )
        except UnknownPrediction:
            service.metrics.feedback.labels("unknown").inc()
            raise HTTPException(404, f"prediction_id: {body.prediction_id} is unknown") from None
        except OutcomeConflict as exc:
            service.metrics.feedback.labels("conflict").inc()
            raise HTTPException(409, f"outcome: {exc}") from None
        except StoreError as exc:
            request_id = request.scope["state"]["request_id"]
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

    return api
