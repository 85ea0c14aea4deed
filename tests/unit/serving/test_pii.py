"""The PII policy on everything stored: inputs, unseen categories, reasons (the PII fields and
the ratios computed from them); the raw database file and the logs never hold a planted value,
while the client still gets its own reasons and unseen categories."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kaizen.events import predictions
from kaizen.events.engine import create_engine
from kaizen.runtime import Serving
from kaizen.serving.app import create_app
from kaizen.serving.pii import Scrubber
from tests.unit.serving.conftest import application

SALT = "pepper-" + "0" * 25  # 32 bytes
FEATURES = ["Age", "Income", "Debt", "Home"]
RATIOS = (("debt_to_income", "Debt", "Income"), ("age_sq", "Age", "Age"), ("x", "Debt", "Debt"))
# Planted values: the tiny model's Income is a ratio's denominator (debt_to_income); a Home it
# never saw is an unseen category.
INCOME, HOME = 17.828125, "planted-home-q7z"


PII_REASONS = ("Income", "Home", "debt_to_income")


def raw_bytes(db: str) -> bytes:
    """The SQLite file and its WAL, as bytes on disk."""
    return b"".join(
        path.read_bytes() for path in Path(db).parent.glob(Path(db).name + "*") if path.is_file()
    )


def test_unseen_categories_follow_the_policy():
    """hash: a PII field's unseen value is its keyed hash; drop: left out; others kept."""
    scrub = Scrubber.create(["Home"], "hash", SALT, FEATURES)
    digest = hmac.new(SALT.encode(), b'"castle"', hashlib.sha256).hexdigest()
    assert scrub.unseen({"Home": "castle", "Job": "x"}) == {
        "Home": f"hmac-sha256:{digest}",
        "Job": "x",
    }
    assert Scrubber.create(["Home"], "drop", None, FEATURES).unseen({"Home": "c"}) == {}
    assert Scrubber().unseen({"Home": "c"}) == {"Home": "c"}


def test_stored_reasons_leave_out_pii_and_what_is_derived_from_it():
    """Income is PII: its reason and debt_to_income's (Income is its denominator) go; Debt's
    and a ratio of other columns stay."""
    scrub = Scrubber.create(["Income", "Age"], "hash", SALT, FEATURES, RATIOS)
    assert scrub.derived == {"debt_to_income", "age_sq"}
    reasons = [
        {"feature": name, "contribution": 0.1}
        for name in ("Income", "debt_to_income", "Debt", "x", "age_sq")
    ]
    assert [r["feature"] for r in scrub.reasons(reasons)] == ["Debt", "x"]
    assert Scrubber().reasons(reasons) == reasons


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_planted_values_never_reach_the_file_or_the_logs(bundled, db, monkeypatch, caplog, mode):
    """With Income and Home as PII, a prediction whose reasons name Income and debt_to_income
    and whose Home is unseen: the client gets them all; the raw store (file and WAL) and every
    log record hold neither planted value, nor Income's contribution; the stored reasons name
    neither PII feature nor the ratio."""
    monkeypatch.setenv("KAIZEN_PII_FIELDS", "Income,Home")
    monkeypatch.setenv("KAIZEN_PII_MODE", mode)
    monkeypatch.setenv("KAIZEN_PII_SALT", SALT)
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5, reasons=10)
    caplog.set_level(logging.DEBUG)
    planted = application(
        Income=INCOME, Home=HOME, Debt=5000.0
    )  # a low income: Income and debt_to_income raise the score
    with TestClient(create_app(settings)) as client:
        response = client.post("/predict", json={"applications": [planted]})
    assert response.status_code == 200
    [answer] = response.json()["predictions"]
    answered = {r["feature"]: r["contribution"] for r in answer["reasons"]}
    assert answer["unseen"] == {"Home": HOME}
    assert {"Income", "debt_to_income"} & answered.keys(), answered  # the client's own
    engine = create_engine(db)
    [event] = predictions.events(engine)
    engine.dispose()
    assert not set(PII_REASONS) & {r["feature"] for r in event["reasons"]}
    assert set(event["unseen"]) == (set() if mode == "drop" else {"Home"})
    raw = raw_bytes(db)
    logs = "\n".join(record.getMessage() for record in caplog.records)
    secrets = [str(INCOME), HOME] + [
        json.dumps(value) for name, value in answered.items() if name in PII_REASONS
    ]
    for secret in secrets:
        assert secret.encode() not in raw, secret
        assert secret not in logs, secret
    assert b"5000.0" in raw or b"5000" in raw  # the check can see stored values
