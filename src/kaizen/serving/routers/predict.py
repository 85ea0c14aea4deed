"""POST /predict: score a batch, store every event, then answer (nothing stored = 503)."""

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from kaizen.events.engine import StoreError
from kaizen.serving.payloads import PredictResponse

ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "more applications than KAIZEN_MAX_BATCH"},
    422: {"description": "an application is invalid (the field and the reason are named)"},
    503: {"description": "the event store is unavailable: nothing was recorded"},
}


def router(request_model: TypeAdapter) -> APIRouter:
    """The predict route for this schema's request model."""
    api = APIRouter(tags=["predict"])
    schema = {"$ref": f"#/components/schemas/{request_model.json_schema()['title']}"}
    body_doc = {"required": True, "content": {"application/json": {"schema": schema}}}

    @api.post(
        "/predict",
        response_model=PredictResponse,
        responses=ERRORS,
        openapi_extra={"requestBody": body_doc},
    )
    async def predict(request: Request) -> Response:
        """Score applications; each decision is stored before the response is sent."""
        # The body is validated straight from its bytes (pydantic's JSON mode): FastAPI's own
        # path (json.loads, then validation of the Python objects) was 5x slower on 1,000 rows.
        try:
            body = request_model.validate_json(await request.body())
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in errors]
            ) from None
        applications = body["applications"]  # validated dicts, as scoring reads them
        limit = request.app.state.service.settings.max_batch
        if len(applications) > limit:
            raise HTTPException(
                413, f"applications: {len(applications)} in one request, KAIZEN_MAX_BATCH={limit}"
            )
        state = request.scope["state"]
        future = request.app.state.batcher.submit(
            applications, state["request_id"], state["started"]
        )
        try:
            answer = await asyncio.wrap_future(future)
        except StoreError:
            raise HTTPException(503, "event store unavailable: nothing was recorded") from None
        # Encoded by the batcher (the fields of PredictResponse, which documents them): FastAPI's
        # response validation cost more than scoring on a batch of 1,000.
        return Response(answer, media_type="application/json")

    return api
