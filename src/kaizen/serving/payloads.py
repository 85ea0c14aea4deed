"""Request and response bodies. The application model is generated from the schema saved with
the model: numbers are JSON numbers (finite), categories are strings with the known ones listed
as an enum in the OpenAPI document, every field is required and nullable (a missing value is
imputed, as in training), and unknown fields are rejected. A category outside the enum is
accepted and reported back as `unseen`: the model scores it (as no known category), and
refusing it would turn a data drift into an outage."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema, with_config
from typing_extensions import TypedDict

from kaizen.pipeline.data import Schema

FORBID = ConfigDict(extra="forbid")


def application_model(schema: Schema, categories: dict[str, frozenset[str]]) -> type:
    """The type of one application for this schema: a TypedDict, so that validation gives the
    plain dicts that scoring reads (a model instance per application, then `model_dump`, cost
    as much as the validation). A category is validated as a string (what it is: unknown
    values are accepted) and documented as the known values or any string."""
    fields: dict[str, Any] = {}
    for name in schema.numeric:
        fields[name] = Annotated[float | None, Field(allow_inf_nan=False, strict=True)]
    for name in schema.categorical:
        known = tuple(sorted(categories.get(name, ())))
        documented: Any = Annotated[
            ((Literal[known] | str) if known else str) | None, Field(max_length=200)
        ]
        fields[name] = Annotated[
            str | None,
            Field(max_length=200, description=f"known categories: {', '.join(known)}"),
            WithJsonSchema(TypeAdapter(documented).json_schema()),
        ]
    return typed_dict("Application", fields)


def batch_model(application: type, max_batch: int) -> TypeAdapter:
    """`{"applications": [...]}`: at least one; more than `max_batch` is refused with 413 (by
    the route, which says how many came)."""
    items = Field(min_length=1, description=f"at most {max_batch} (413 beyond)")
    applications: Any = Annotated[list[application], items]  # type: ignore[valid-type]
    return TypeAdapter(typed_dict("PredictRequest", {"applications": applications}))


def typed_dict(name: str, fields: dict[str, Any]) -> Any:
    """A TypedDict class made at run time, unknown fields forbidden."""
    make: Any = TypedDict  # a type checker cannot follow fields known only at run time
    return with_config(FORBID)(make(name, fields))


class Reason(BaseModel):
    """A feature that raised the score, and by how much (log-odds, or probability points for
    models other than logistic regression)."""

    feature: str
    contribution: float


class Prediction(BaseModel):
    """The decision for one application."""

    prediction_id: UUID
    score: float = Field(description="probability of default")
    decision: Literal["accept", "refuse"]
    reasons: list[Reason]
    unseen: dict[str, str] = Field(description="categorical values never seen in training")
    model_version: str


class PredictResponse(BaseModel):
    """One prediction per application, in request order."""

    predictions: list[Prediction]


class Feedback(BaseModel):
    """The observed outcome of an earlier prediction: 1 = defaulted (the target's positive
    class), 0 = repaid."""

    model_config = FORBID

    prediction_id: UUID
    outcome: Literal[0, 1]
    observed_at: dt.datetime


class FeedbackResponse(BaseModel):
    """What the store holds for that prediction; `created` is false on an identical repeat."""

    prediction_id: UUID
    outcome: Literal[0, 1]
    observed_at: dt.datetime
    created: bool
