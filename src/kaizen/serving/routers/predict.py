"""POST /predict: score a batch, store every event, then answer (nothing stored = 503)."""

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from kaizen.events.engine import StoreError
from kaizen.serving.payloads import Invalid, PredictResponse, Problem
from kaizen.serving.validation import Applications

ERRORS: dict[int | str, dict[str, Any]] = {
    200: {  # an OpenAPI link: clients and schemathesis learn where a prediction_id goes next
        "links": {
            "Feedback": {
                "operationId": "feedback",
                "requestBody": {"prediction_id": "$response.body#/predictions/0/prediction_id"},
                "description": "the outcome of the first prediction, once observed",
            }
        }
    },
    413: {"model": Problem, "description": "more applications than KAIZEN_MAX_BATCH"},
    422: {
        "model": Invalid,
        "description": "the body is not JSON, or an application is invalid (the first errors, "
        "field and reason, never the value)",
    },
    503: {"model": Problem, "description": "the event store is unavailable: nothing was recorded"},
}


def router(request_model: TypeAdapter[Any], validate: Applications) -> APIRouter:
    """The predict route for this schema's request model (documented) and validator."""
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
        # Validated from the bytes in a worker thread (the event loop keeps answering /health
        # meanwhile): 413 and 422 are raised there, as validation.TooMany and InvalidBody.
        applications = await run_in_threadpool(validate, await request.body())
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
