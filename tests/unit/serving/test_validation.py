"""Request bytes to validated values: strict JSON, the count before the fields, at most
MAX_ERRORS errors listed with the count of the others, never an input value."""

import time
import tracemalloc

import orjson
import pytest

from kaizen.pipeline.data import Schema
from kaizen.serving.payloads import Feedback, application_model
from kaizen.serving.validation import MAX_ERRORS, Applications, InvalidBody, TooMany, model

SCHEMA = Schema.from_dict(
    {
        "target": "Status",
        "positive": "bad",
        "numeric": ["Income", "Debt"],
        "categorical": ["Home"],
    }
)
GOOD = {"Income": 120.0, "Debt": 3, "Home": "rent"}


@pytest.fixture(name="validate")
def fixture_validate() -> Applications:
    """A validator for a three-field schema, at most 10 applications."""
    application = application_model(SCHEMA, {"Home": frozenset({"rent", "owner"})})
    return Applications(application, SCHEMA.features, max_batch=10)


def body(*applications) -> bytes:
    """A /predict body."""
    return orjson.dumps({"applications": list(applications)})


def refused(validate, raw: bytes) -> dict:
    """The 422 content `raw` gets."""
    with pytest.raises(InvalidBody) as caught:
        validate(raw)
    return caught.value.content()


def test_valid_applications_come_back_as_dicts(validate):
    """Integers are numbers, categories text; nothing else changes."""
    assert validate(body(GOOD, {**GOOD, "Home": None})) == [
        {"Income": 120.0, "Debt": 3.0, "Home": "rent"},
        {"Income": 120.0, "Debt": 3.0, "Home": None},
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"applications": [{"Income": NaN, "Debt": 1, "Home": "rent"}]}',
        b'{"applications": [{"Income": Infinity, "Debt": 1, "Home": "rent"}]}',
        b'{"applications": [{"Income": -Infinity, "Debt": 1, "Home": "rent"}]}',
        b'{"applications": [{"Income": 1e400, "Debt": 1, "Home": "rent"}]}',
        b'{"applications": [{"Income": 1, "Debt": 1, "Home": "r\xffnt"}]}',
        b'{"applications": [{"Income": 1, "Debt": 1, "Home": "\\ud800"}]}',
        b'{"applications": [',
        b"",
    ],
)
def test_what_json_does_not_allow_is_one_error_at_body(validate, raw):
    """NaN, infinities, a number beyond a double, invalid UTF-8, a lone surrogate, truncated
    or empty: one json_invalid error, located at the body."""
    content = refused(validate, raw)
    assert [e["loc"] for e in content["detail"]] == [["body"]]
    assert content["detail"][0]["type"] == "json_invalid" and content["more_errors"] == 0


@pytest.mark.parametrize("text", ["a\u0000b", "\u0000", "tab\there", "\u007f", "\u0085", "\n"])
def test_control_characters_are_refused(validate, text):
    """NUL and the other C0/C1 control characters: 422 naming the field, not the value."""
    content = refused(validate, body({**GOOD, "Home": text}))
    [problem] = content["detail"]
    assert problem["loc"] == ["body", "applications", 0, "Home"]
    assert "control characters" in problem["msg"] and text not in str(content)


def test_count_is_checked_before_any_field(validate):
    """11 invalid applications (limit 10): 413 naming the count, no field error."""
    with pytest.raises(TooMany, match="applications: 11 in one request, KAIZEN_MAX_BATCH=10"):
        validate(body(*[{"Income": "x"}] * 11))


def test_errors_are_bounded_counted_and_never_echo_values(validate):
    """10 applications with 3 errors each: MAX_ERRORS listed, the others counted; no value."""
    secret = "secret-value-1234"
    content = refused(validate, body(*[{"Income": secret, "Debt": secret}] * 10))
    assert len(content["detail"]) == MAX_ERRORS
    assert content["more_errors"] == 30 - MAX_ERRORS
    assert secret not in orjson.dumps(content).decode()
    assert set(content["detail"][0]) == {"loc", "msg", "type"}


def test_unknown_keys_are_one_error_per_application_and_cheap(validate):
    """200,000 unknown keys in one application: one error naming the first, the others
    counted, in well under a second and a few MB (pydantic alone: 5 s and 1.2 GB for 400,000)."""
    crowded = {f"k{i}": 0 for i in range(200_000)}
    raw = body({**GOOD, **crowded}, GOOD)
    tracemalloc.start()
    started = time.perf_counter()
    content = refused(validate, raw)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert content["detail"] == [
        {
            "loc": ["body", "applications", 0, "k0"],
            "msg": "unknown field",
            "type": "extra_forbidden",
        }
    ]
    assert content["more_errors"] == 199_999
    assert elapsed < 2.0 and peak < 100 * 2**20, (elapsed, peak)


def test_a_long_unknown_key_is_cut(validate):
    """A client's key is shown to 64 characters at most."""
    content = refused(validate, body({"x" * 10_000: 1}))
    assert max(len(str(part)) for e in content["detail"] for part in e["loc"]) <= 65


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        (b"[]", ["body"], "dict_type"),
        (b'{"applications": {}}', ["body", "applications"], "list_type"),
        (b"{}", ["body", "applications"], "missing"),
        (b'{"applications": []}', ["body", "applications"], "too_short"),
        (b'{"applications": [1], "x": 2}', ["body", "x"], "extra_forbidden"),
        (b'{"applications": [1]}', ["body", "applications", 0], "dict_type"),
        (b'{"applications": [{"Income": [1, 2], "Debt": 1, "Home": null}]}', None, "float_type"),
    ],
)
def test_the_shape_is_checked_with_one_line_errors(validate, raw, loc, kind):
    """Not an object, not a list, missing, empty, unknown top-level key, not an application."""
    [problem] = refused(validate, raw)["detail"]
    assert problem["type"] == kind
    assert loc is None or problem["loc"] == loc


NOW = "2026-12-01T10:00:00Z"
PID = "0190a0b0-0000-7000-8000-000000000001"


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("outcome", True, "int_type"),
        ("outcome", 1.0, "int_type"),
        ("outcome", 2, "less_than_equal"),
        ("outcome", "1", "int_type"),
        ("observed_at", 0, "value_error"),
        ("observed_at", "1700000000", "value_error"),
        ("observed_at", "2026-12-01", "value_error"),
        ("observed_at", "2026-12-01T10:00:00", "timezone_aware"),
        ("observed_at", "0001-01-01T00:00:00+01:00", "value_error"),
        ("prediction_id", "not-a-uuid", "uuid_parsing"),
    ],
)
def test_feedback_is_strict(field, value, kind):
    """Outcome: the integer 0 or 1; observed_at: ISO 8601 with a zone, representable in UTC."""
    raw = orjson.dumps({"prediction_id": PID, "outcome": 1, "observed_at": NOW, field: value})
    with pytest.raises(InvalidBody) as caught:
        model(Feedback, raw)
    [problem] = caught.value.content()["detail"]
    assert problem["loc"] == ["body", field] and problem["type"] == kind


def test_feedback_accepts_iso_times_with_any_zone():
    """+02:00 is converted to UTC."""
    raw = orjson.dumps(
        {"prediction_id": PID, "outcome": 0, "observed_at": "2026-12-01T12:00+02:00"}
    )
    assert model(Feedback, raw).observed_at.isoformat() == "2026-12-01T10:00:00+00:00"


@pytest.mark.parametrize("raw", [b'{"outcome": NaN}', b"\xff\xfe", b"[1]"])
def test_feedback_bodies_that_are_not_json_objects_are_422(raw):
    """NaN, invalid UTF-8, an array: one error at the body."""
    with pytest.raises(InvalidBody) as caught:
        model(Feedback, raw)
    assert [e["loc"] for e in caught.value.content()["detail"]] == [["body"]]
