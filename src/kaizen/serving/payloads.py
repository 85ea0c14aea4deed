"""Request and response bodies. The application model is generated from the schema saved with
the model: numbers are JSON numbers (finite), categories are strings with the known ones listed
as an enum in the OpenAPI document, every field is required and nullable (a missing value is
imputed, as in training), and unknown fields are rejected. A category outside the enum is
accepted and reported back as `unseen`: the model scores it (as no known category), and
refusing it would turn a data drift into an outage. Control characters (NUL included) are
refused in every string: no event store or report has to cope with them.

Feedback is strict: the outcome is the integer 0 or 1 (not `true`, not 1.0), `observed_at` an
ISO 8601 time with its zone (not a number of seconds)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    WithJsonSchema,
    with_config,
)
from typing_extensions import TypedDict

from kaizen.pipeline.data import Schema

FORBID = ConfigDict(extra="forbid")
# No C0 or C1 control character, DEL included (NUL reaches no store); the same pattern in the
# OpenAPI document (ECMA-262) and in validation (Rust regex). The class excludes line breaks,
# so `$` cannot match before a trailing one.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


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
        text = {"type": "string", "maxLength": 200, "pattern": PRINTABLE}
        listed = [{"type": "string", "enum": list(known)}] if known else []
        documented = {"anyOf": [*listed, text, {"type": "null"}]}
        fields[name] = Annotated[
            str | None,
            Field(
                max_length=200,
                pattern=PRINTABLE,
                description=f"known categories: {', '.join(known)}",
            ),
            WithJsonSchema(documented),
        ]
    made: type = typed_dict("Application", fields)
    return made


def batch_model(application: type, max_batch: int) -> TypeAdapter[Any]:
    """`{"applications": [...]}`: at least one; more than `max_batch` is refused with 413 (by
    the route, before any application is validated), documented as `maxItems`."""
    items = Field(
        min_length=1,
        description=f"at most {max_batch} (413 beyond)",
        json_schema_extra={"maxItems": max_batch},
    )
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


def _iso_time(value: Any) -> Any:
    """Text in ISO 8601 only: pydantic would also take a number of seconds (0 is 1970), as a
    number or as text."""
    if not isinstance(value, str) or not ISO_TIME.match(value):
        raise ValueError("must be an ISO 8601 time with its zone, e.g. 2026-01-31T09:30:00Z")
    return value


def _in_utc(value: dt.datetime) -> dt.datetime:
    """In UTC; a time that UTC cannot hold (year 1 at +01:00) is refused, not a 500."""
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


ObservedAt = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_time),
    AfterValidator(_in_utc),
    Field(
        description="ISO 8601 with a zone; not before the prediction, not in the future",
    ),
]


class Feedback(BaseModel):
    """The observed outcome of an earlier prediction: 1 = defaulted (the target's positive
    class), 0 = repaid."""

    model_config = FORBID

    prediction_id: UUID
    outcome: int = Field(strict=True, ge=0, le=1, description="1 = defaulted, 0 = repaid")
    observed_at: ObservedAt


class FeedbackResponse(BaseModel):
    """What the store holds for that prediction; `created` is false on an identical repeat."""

    prediction_id: UUID
    outcome: Literal[0, 1]
    observed_at: dt.datetime
    created: bool


class Problem(BaseModel):
    """A refused request: what was wrong, in one line (never an input value)."""

    detail: str


class FieldError(BaseModel):
    """One invalid field: where (`body`, then keys and positions), why, and the error type."""

    loc: list[str | int]
    msg: str
    type: str


class Invalid(BaseModel):
    """A request that failed validation: the first errors (field and reason, never the value)
    and how many more were found."""

    detail: list[FieldError]
    more_errors: int = Field(0, description="errors found beyond those listed")
