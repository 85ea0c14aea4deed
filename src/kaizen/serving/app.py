"""The FastAPI application. The bundle is loaded and its hashes checked once, by `kaizen serve`
(so that a bad bundle stops start-up with one line) or by `create_app`; the routes are declared
from the schema saved beside it. Every response carries `X-Request-ID` (the client's, when it
sends a usable one). FastAPI's built-in OpenTelemetry is switched off: no telemetry.

Hostile input: a body longer than the limit is refused (413) before anything parses it, counted
as it streams in (a Content-Length is honoured when too large, never trusted when small); every
error is JSON with the request id, and a failure nobody foresaw is a 500 logged by its type and
place only (an exception's text can hold the request's values). Metrics take the HTTP method
from a fixed set: a made-up method is `other`, not a new series."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import traceback
import uuid
from typing import Any, AsyncIterator

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from pydantic import TypeAdapter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kaizen import __version__
from kaizen.bundle import artifact, scoring
from kaizen.pipeline.data import Schema
from kaizen.runtime import Serving
from kaizen.serving.decisions import Batcher
from kaizen.serving.payloads import Feedback, application_model, batch_model
from kaizen.serving.routers import docs, feedback, health, predict
from kaizen.serving.service import Service
from kaizen.serving.validation import MAX_ERRORS, Applications, InvalidBody, TooMany, reported

NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a client's id is kept only if it fits
PROBLEM = "#/components/schemas/Problem"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # labels
log = logging.getLogger(__name__)


class TooLong(Exception):
    """The body went past the limit while it was read."""


class RequestContext:  # pylint: disable=too-few-public-methods  # an ASGI middleware
    """Request id in and out, the body-size limit, request count and latency by route template,
    and a JSON 500 (with the id, logged without values) for any failure left unhandled."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI, limit: int):
        self.app = app
        self.fastapi = fastapi
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        started, status, sent = time.perf_counter(), 500, False
        scope.setdefault("state", {}).update(request_id=request_id, started=started)

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status, sent = message["status"], True
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            replay = await self.body(scope, receive)
            await self.app(scope, replay, send_with_id)
        except TooLong:
            reason = f"request body: more than {self.limit} bytes (KAIZEN_MAX_BODY)"
            await answer(send_with_id, 413, {"detail": reason}, close=True)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # answered, logged
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "request %s: unhandled %s at %s:%s (values not logged)",
                request_id,
                type(exc).__name__,
                where.filename.rsplit("/", 1)[-1],
                where.lineno,
            )
            if not sent:
                await answer(send_with_id, 500, {"detail": "internal error"}, close=True)
        finally:
            service = getattr(self.fastapi.state, "service", None)
            if service is not None:
                route = getattr(scope.get("route"), "path", "unmatched")
                method = scope["method"] if scope["method"] in METHODS else "other"
                service.metrics.requests.labels(route, method, str(status)).inc()
                service.metrics.latency.labels(route).observe(time.perf_counter() - started)

    async def body(self, scope: Scope, receive: Receive) -> Receive:
        """Read the whole body, counting (TooLong past the limit, or as soon as Content-Length
        announces more); a `receive` that replays it to the application."""
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise TooLong
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                chunks, more = [], False
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise TooLong
            chunks.append(chunk)
            more = message.get("more_body", False)
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # http.disconnect, when it comes
            delivered = True
            return whole

        return replay


async def answer(send: Send, status: int, content: dict[str, Any], close: bool = False) -> None:
    """A JSON response straight through ASGI (`close`: the body may not have been read)."""
    body = orjson.dumps(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Serving, service: Service | None = None) -> FastAPI:
    """The application for `settings`; `service`: already opened by the caller (else the
    lifespan opens one on the bundle loaded and hash-checked here, once)."""
    bundle = service.bundle if service else artifact.load(settings.bundle)
    info = bundle.info.model
    schema = Schema.from_dict(info["schema"])
    application = application_model(schema, scoring.categories(info))
    request_model = batch_model(application, settings.max_batch)
    validator = Applications(application, schema.features, settings.max_batch)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = service or Service.open(settings, bundle)
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
    app.include_router(predict.router(request_model, validator))
    app.include_router(feedback.router())
    app.include_router(health.router())
    document(app, request_model)
    handle_errors(app)
    app.add_middleware(RequestContext, fastapi=app, limit=settings.body_limit)
    return app


def handle_errors(app: FastAPI) -> None:
    """Validation errors as `payloads.Invalid` (the first ones, never an input value), too many
    applications as a 413."""

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, InvalidBody):
            return JSONResponse(exc.content(), status_code=422)
        errors = list(exc.errors()) if isinstance(exc, RequestValidationError) else []
        shown = reported(errors[:MAX_ERRORS], [])
        return JSONResponse({"detail": shown, "more_errors": len(errors) - len(shown)}, 422)

    async def too_many(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(InvalidBody, invalid)
    app.add_exception_handler(TooMany, too_many)


def document(app: FastAPI, request_model: TypeAdapter[Any]) -> None:
    """Add the request models to the OpenAPI components (predict and feedback validate their
    bodies themselves, so FastAPI does not know the models), and the 413 of the body limit, which
    any route can answer."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            body = request_model.json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components[body["title"]] = body
            components["Feedback"] = Feedback.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            too_large = {
                "description": "the request body is larger than KAIZEN_MAX_BODY",
                "content": {"application/json": {"schema": {"$ref": PROBLEM}}},  # predict's
            }
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.setdefault("responses", {}).setdefault("413", too_large)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
