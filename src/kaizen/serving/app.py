"""The FastAPI application. The bundle is loaded and its hashes checked once, in the lifespan
(or before, by `kaizen serve`, so that a bad bundle stops start-up with one line); the routes are
declared from the schema saved beside it. Every response carries `X-Request-ID` (the client's,
when it sends a usable one). FastAPI's built-in OpenTelemetry is switched off: no telemetry."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from typing import Any, AsyncIterator

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from pydantic import TypeAdapter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kaizen import KaizenError, __version__
from kaizen.bundle import artifact, scoring
from kaizen.pipeline.data import Schema
from kaizen.runtime import Serving
from kaizen.serving.decisions import Batcher
from kaizen.serving.payloads import application_model, batch_model
from kaizen.serving.routers import docs, feedback, health, predict
from kaizen.serving.service import Service

NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a client's id is kept only if it fits


class RequestContext:  # pylint: disable=too-few-public-methods  # an ASGI middleware
    """Request id in and out, request count and latency by route template."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI):
        self.app = app
        self.fastapi = fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        started, status = time.perf_counter(), 500
        scope.setdefault("state", {}).update(request_id=request_id, started=started)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            service = getattr(self.fastapi.state, "service", None)
            if service is not None:
                route = getattr(scope.get("route"), "path", "unmatched")
                service.metrics.requests.labels(route, scope["method"], str(status)).inc()
                service.metrics.latency.labels(route).observe(time.perf_counter() - started)


def create_app(settings: Serving, service: Service | None = None) -> FastAPI:
    """The application for `settings`; `service`: already opened by the caller (else the
    lifespan opens one)."""
    info = (service.bundle.info if service else artifact.verify(settings.bundle)).model
    schema = Schema.from_dict(info["schema"])
    application = application_model(schema, scoring.categories(info))
    request_model = batch_model(application, settings.max_batch)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = service or Service.open(settings)
        if opened.model.schema_version != scoring.schema_version(info):
            raise KaizenError(f"{settings.bundle}: bundle.json changed during start-up")
        batcher = Batcher(opened, settings.max_batch)
        batcher.start()
        app.state.service, app.state.batcher = opened, batcher
        try:
            yield
        finally:
            batcher.stop()
            opened.close()

    app = FastAPI(
        title="Kaizen credit scoring",
        version=__version__,
        description="Scores loan applications with the saved pipeline; every decision is stored "
        "before it is returned.",
        lifespan=lifespan,
        telemetry=NO_TELEMETRY,
        docs_url=None,  # served offline by routers/docs.py
        redoc_url=None,
    )
    docs.mount(app)
    app.include_router(predict.router(request_model))
    document(app, request_model)
    app.include_router(feedback.router())
    app.include_router(health.router())
    app.add_middleware(RequestContext, fastapi=app)
    return app


def document(app: FastAPI, request_model: TypeAdapter) -> None:
    """Add the generated request model to the OpenAPI components: the predict route validates
    its body itself, so FastAPI does not know the model."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            body = request_model.json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components[body["title"]] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
