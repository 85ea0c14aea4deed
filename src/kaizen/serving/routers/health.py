"""GET /health (model and store status), /ready (can take traffic), /metrics (Prometheus)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kaizen.events.engine import ping, writable
from kaizen.serving.service import Service

log = logging.getLogger(__name__)


def request_id(request: Request) -> str:
    """The request's id (set by the app's middleware), for log lines."""
    return str(request.scope.get("state", {}).get("request_id", "-"))


def router() -> APIRouter:
    """The operational routes."""
    api = APIRouter(tags=["operations"])

    @api.get("/health")
    def health(request: Request) -> dict[str, Any]:
        """The process is up with its model loaded; says whether the store answers."""
        service: Service = request.app.state.service
        return {
            "status": "ok",
            "model_version": service.model.version,
            "schema_version": service.model.schema_version,
            "threshold": service.threshold,
            "store": "reachable" if ping(service.engine) else "unreachable",
        }

    @api.get("/ready", responses={503: {"description": "the event store cannot be written"}})
    def ready(request: Request) -> JSONResponse:
        """200 when predictions can be stored (a write transaction, rolled back), else 503."""
        ok = writable(request.app.state.service.engine)
        if not ok:
            log.warning(
                "not ready: the event store cannot be written [request %s]", request_id(request)
            )
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    @api.get("/metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus text format."""
        registry = request.app.state.service.metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return api
