"""From a request's bytes to validated values, with bounded work and without echoing input.

Anyone who can reach the API can send anything, so validation must cost little whatever it is
sent. The body is already capped in size (`app.BodyLimit`); here it is decoded by orjson,
which refuses what JSON does not allow (NaN, Infinity, a number beyond a double, invalid UTF-8,
lone surrogates) in one line. The number of applications is checked before any of them is
validated (413). An application with more keys than the schema has fields is one error, not
one per key (a 4 MB body of unknown keys made 400,000 errors and 1.2 GB in pydantic). At most
MAX_ERRORS errors are listed, with the count of the others, and none carries the input (the
values are personal data, and NaN cannot even be encoded in a JSON answer).
"""

from __future__ import annotations

from typing import Any, Iterable, NoReturn

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

MAX_ERRORS = 20  # listed in a 422; the others are counted
MAX_KEY = 64  # characters of a client's key shown in an error location

Loc = list[str | int]


class InvalidBody(Exception):
    """A 422: the first errors, and how many more there were."""

    def __init__(self, errors: list[dict[str, Any]], more: int = 0):
        super().__init__(f"{len(errors) + more} validation errors")
        self.errors, self.more = errors, more

    def content(self) -> dict[str, Any]:
        """The response body (payloads.Invalid)."""
        return {"detail": self.errors, "more_errors": self.more}


class TooMany(Exception):
    """A 413, with its one-line reason."""


def error(loc: Loc, kind: str, msg: str) -> dict[str, Any]:
    """One error as the API reports it."""
    return {"loc": [_shown(part) for part in loc], "msg": msg, "type": kind}


def _shown(part: Any) -> str | int:
    """A location part: positions as they are, a key cut to MAX_KEY characters."""
    if isinstance(part, int):
        return part
    text = str(part)
    return text if len(text) <= MAX_KEY else text[:MAX_KEY] + "…"


def reported(errors: Iterable[ErrorDetails], prefix: Loc) -> list[dict[str, Any]]:
    """pydantic's errors without their input, context or URL, under `prefix`."""
    return [error([*prefix, *e["loc"]], e["type"], _message(e)) for e in errors]


def _message(details: ErrorDetails) -> str:
    """pydantic's message, except for the control-character pattern (its regex is no reason a
    client can read)."""
    if details["type"] == "string_pattern_mismatch":
        return "control characters (U+0000-U+001F, U+007F-U+009F) are not allowed"
    return details["msg"]


def parse_json(body: bytes) -> Any:
    """The body's JSON document; InvalidBody (one error, at `body`) when it is not strict JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody([error(["body"], "json_invalid", f"not valid JSON: {exc.msg}")]) from None


def first_errors(exc: ValidationError, prefix: Loc) -> InvalidBody:
    """The first MAX_ERRORS errors of `exc` and the count of the others."""
    total = exc.error_count()
    shown = reported(
        exc.errors(include_url=False, include_input=False, include_context=False)[:MAX_ERRORS],
        prefix,
    )
    return InvalidBody(shown, total - len(shown))


class Applications:  # pylint: disable=too-few-public-methods  # a validator with its schema
    """Validates a /predict body: `{"applications": [...]}` -> the list of application dicts."""

    def __init__(self, application: type, fields: Iterable[str], max_batch: int):
        self.items: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(
            list[application]  # type: ignore[valid-type]
        )
        self.one: TypeAdapter[dict[str, Any]] = TypeAdapter(application)
        self.fields = frozenset(fields)
        self.max_batch = max_batch

    def __call__(self, body: bytes) -> list[dict[str, Any]]:
        """The validated applications; TooMany (413) or InvalidBody (422)."""
        document = parse_json(body)
        if not isinstance(document, dict):
            raise InvalidBody([error(["body"], "dict_type", "must be an object: {applications}")])
        unknown = [key for key in document if key != "applications"]
        if unknown:
            errors = [error(["body", key], "extra_forbidden", "unknown field") for key in unknown]
            raise InvalidBody(errors[:MAX_ERRORS], max(0, len(errors) - MAX_ERRORS))
        applications = document.get("applications")
        if not isinstance(applications, list):
            kind, msg = ("missing", "required") if applications is None else ("list_type", "")
            raise InvalidBody([error(["body", "applications"], kind, msg or "must be a list")])
        if len(applications) > self.max_batch:
            raise TooMany(
                f"applications: {len(applications)} in one request, "
                f"KAIZEN_MAX_BATCH={self.max_batch}"
            )
        if not applications:
            raise InvalidBody([error(["body", "applications"], "too_short", "at least one")])
        return self._validated(applications)

    def _validated(self, applications: list[Any]) -> list[dict[str, Any]]:
        """Every application valid (one pydantic call), or the first errors and their count."""
        crowded: dict[int, dict[str, Any]] = {}  # position -> its first error
        extra = 0  # unknown keys of crowded applications beyond the first
        for i, item in enumerate(applications):
            if isinstance(item, dict) and len(item) > len(self.fields):
                unknown = [key for key in item if key not in self.fields]
                crowded[i] = error(
                    ["body", "applications", i, unknown[0]], "extra_forbidden", "unknown field"
                )
                extra += len(unknown) - 1
                applications[i] = {k: v for k, v in item.items() if k in self.fields}
        try:
            validated: list[dict[str, Any]] = self.items.validate_python(applications)
        except ValidationError as exc:
            self._raise_first(applications, crowded, exc.error_count() + len(crowded) + extra)
        if crowded:
            self._raise_first(applications, crowded, len(crowded) + extra)
        return validated

    def _raise_first(
        self, applications: list[Any], crowded: dict[int, dict[str, Any]], total: int
    ) -> NoReturn:
        """Validate one application at a time until MAX_ERRORS errors are listed (a 1,000-row
        batch can hold tens of thousands); raise them with the count of the others."""
        shown: list[dict[str, Any]] = []
        for i, item in enumerate(applications):
            if i in crowded:
                shown.append(crowded[i])
            try:
                self.one.validate_python(item)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_input=False, include_context=False)
                shown += reported(errors, ["body", "applications", i])
            if len(shown) >= MAX_ERRORS:
                break
        shown = shown[:MAX_ERRORS]
        raise InvalidBody(shown, max(0, total - len(shown)))


def model(kind: type[BaseModel], body: bytes) -> Any:
    """`body` validated as the pydantic model `kind`: strict JSON first (as /predict), then
    pydantic's JSON mode (strict fields stay strict: no `true` for 1, no number for a time)."""
    if not isinstance(parse_json(body), dict):
        raise InvalidBody([error(["body"], "dict_type", "must be a JSON object")])
    try:
        return kind.model_validate_json(body)
    except ValidationError as exc:
        raise first_errors(exc, ["body"]) from None
