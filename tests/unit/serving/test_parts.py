"""PII scrubbing and the generated request model."""

import hashlib
import hmac
import time
import uuid

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from pydantic import TypeAdapter, ValidationError

from kaizen import KaizenError
from kaizen.bundle import scoring
from kaizen.pipeline.data import Schema
from kaizen.serving.decisions import features, prediction_ids, reason_lists, unseen_values
from kaizen.serving.metrics import SCORE_BUCKETS, BatchHistogram
from kaizen.serving.payloads import PRINTABLE, application_model, batch_model
from kaizen.serving.pii import Scrubber

FEATURES = ["Age", "Income", "Home"]


def test_scrubber_hashes_with_hmac_or_drops():
    """hash: HMAC-SHA256 keyed by the salt over the JSON value; drop: the field is gone."""
    scrub = Scrubber.create(["Age"], "hash", "pepper", FEATURES)
    out = scrub({"Age": 41, "Income": 3.0, "Home": "rent"})
    expected = hmac.new(b"pepper", b"41", hashlib.sha256).hexdigest()
    assert out == {"Age": f"hmac-sha256:{expected}", "Income": 3.0, "Home": "rent"}
    assert Scrubber.create(["Home"], "drop", None, FEATURES)({"Age": 1, "Home": "x"}) == {"Age": 1}
    assert Scrubber()({"Age": 1}) == {"Age": 1}


def test_scrubber_rejects_unknown_fields_and_a_missing_salt():
    """A PII field that is not a model input, or hashing without a salt: one-line errors."""
    with pytest.raises(KaizenError, match="KAIZEN_PII_FIELDS: Name: not a model input"):
        Scrubber.create(["Name"], "hash", "s", FEATURES)
    with pytest.raises(KaizenError, match="KAIZEN_PII_SALT: required"):
        Scrubber.create(["Age"], "hash", None, FEATURES)


def test_application_model_types():
    """Strict finite numbers, nullable; known categories enumerated (documented) but others
    accepted; validation gives plain dicts; at least one application."""
    application = application_model(
        Schema("S", "bad", ["Age", "Income"], ["Home"]), {"Home": frozenset({"rent"})}
    )
    model = TypeAdapter(application)
    assert model.validate_python({"Age": None, "Income": 1, "Home": "castle"}) == {
        "Age": None,
        "Income": 1.0,
        "Home": "castle",
    }
    for bad in (
        {"Age": "1"},
        {"Age": float("inf")},
        {"Home": 3},
        {"Other": 1},
        {"Home": "x" * 201},
    ):
        with pytest.raises(ValidationError):
            model.validate_python({"Age": 1.0, "Income": 1.0, "Home": "rent", **bad})
    home = model.json_schema()["properties"]["Home"]
    assert home["anyOf"][0] == {"type": "string", "enum": ["rent"]}
    assert home["anyOf"][1]["pattern"] == PRINTABLE and {"type": "null"} in home["anyOf"]
    batch = batch_model(application, 10)
    with pytest.raises(ValidationError, match="at least 1 item"):
        batch.validate_json(b'{"applications": []}')
    assert "at most 10" in batch.json_schema()["properties"]["applications"]["description"]


def test_prediction_ids_are_time_ordered_uuid7():
    """Batched ids are well-formed version-7 UUIDs carrying the current millisecond, all
    different, and later batches sort after earlier ones."""
    before = time.time_ns() // 1_000_000
    ids = prediction_ids(2000)
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(text) for text in ids]
    assert [str(value) for value in parsed] == ids
    assert {value.version for value in parsed} == {7}
    assert {value.variant for value in parsed} == {uuid.RFC_4122}
    assert all(before <= value.int >> 80 <= after for value in parsed)
    assert len(set(ids)) == 2000 and prediction_ids(0) == []
    time.sleep(0.002)
    assert min(prediction_ids(5)) > max(ids)


def test_batch_histogram_exports_what_prometheus_histogram_does():
    """Same buckets (`le`: value <= bound), count and sum as prometheus-client's Histogram."""
    values = [0.0, 0.05, 0.0500001, 0.42, 0.999, 1.0, 1.5]
    mine, theirs = CollectorRegistry(), CollectorRegistry()
    BatchHistogram("kaizen_score", "Scores", SCORE_BUCKETS, mine).observe(np.array(values))
    reference = Histogram("kaizen_score", "Scores", buckets=SCORE_BUCKETS, registry=theirs)
    for value in values:
        reference.observe(value)

    def samples(registry):
        text = generate_latest(registry).decode()
        return [line for line in text.splitlines() if "_created" not in line]

    assert samples(mine) == samples(theirs)


def test_features_frame_and_reason_lists():
    """Numbers as float64 (null -> NaN), categories as stripped objects (null -> NaN), as a CSV
    is typed; reasons: positive contributions only, largest first, at most k."""
    schema = Schema("S", "bad", ["Age"], ["Home"])
    frame = features(schema, [{"Age": 3, "Home": " rent "}, {"Age": None, "Home": None}])
    assert frame["Age"].dtype == "float64" and frame["Home"].dtype == object
    assert frame["Home"].iloc[0] == "rent" and np.isnan(frame["Age"].iloc[1])
    assert frame["Home"].isna().iloc[1]
    values = np.array([[0.5, -1.0, 2.0], [-1.0, -2.0, -0.1]])
    assert reason_lists(values, ["a", "b", "c"], 2) == [
        [{"feature": "c", "contribution": 2.0}, {"feature": "a", "contribution": 0.5}],
        [],
    ]
    assert reason_lists(values, ["a", "b", "c"], 0) == [[], []]


def test_unseen_values_match_the_model_flags(fitted):
    """The categories reported as unseen are exactly those `Model.unseen` flags."""
    model = scoring.load(fitted.model)
    rows = [
        {"Income": 1.0, "Debt": 2.0, "Amount": 3.0, "Price": 4.0, "Home": home}
        for home in ("rent", " castle ", None, "owner", "boat")
    ]
    frame = features(model.schema, rows)
    flags = model.unseen(frame)
    expected = [
        {name: frame[name].iat[i] for name in flags.columns if flags[name].iat[i]}
        for i in range(len(frame))
    ]
    assert unseen_values(frame, model.categories) == expected
    assert expected[1] == {"Home": "castle"} and expected[2] == {}


def test_api_reasons_never_cite_a_protected_attribute(fitted, tmp_path):
    """The API's path (Model.assess + reason_lists over explainer.inputs) on a model that uses
    Home and Income (exclude_protected false): no reason names them or debt_to_income."""
    # pylint: disable-next=import-outside-toplevel
    from tests.unit.stages.test_train import run

    update = {
        "fairness": {"protected": [{"column": "Home"}, {"column": "Income"}]},
        "train": {"exclude_protected": False},
    }
    run(fitted, tmp_path, update)
    model = scoring.load(tmp_path / "model.joblib")
    rows = pd.read_parquet(fitted.test)[model.schema.features].head(50)
    _, contributions = model.assess(rows, True)
    found = reason_lists(contributions, model.explainer.inputs, 4)
    cited = {reason["feature"] for row in found for reason in row}
    assert cited and not cited & {"Home", "Income", "debt_to_income"}
