"""Fixtures: the API on the tiny fitted model and the store of tests/unit/conftest.py."""

from __future__ import annotations

from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from kaizen.runtime import Serving
from kaizen.serving.app import create_app

TOKEN = "s3cret-token-of-at-least-32-bytes"
THRESHOLD = 0.5


def application(**changes) -> dict:
    """One valid application for the tiny model (Income, Debt, Amount, Price, Home)."""
    base = {"Income": 120.0, "Debt": 30.0, "Amount": 900.0, "Price": 1400.0, "Home": "rent"}
    return {**base, **changes}


@pytest.fixture(name="settings")
def fixture_settings(bundled, db, monkeypatch) -> Serving:
    """Settings for the tiny model's bundle, the temporary store, a feedback token, threshold
    0.5."""
    for name in ("KAIZEN_PII_FIELDS", "KAIZEN_PII_SALT", "KAIZEN_THRESHOLD", "KAIZEN_DB"):
        monkeypatch.delenv(name, raising=False)
    return Serving.load(bundle=bundled, db=db, feedback_token=TOKEN, threshold=THRESHOLD)


@pytest.fixture(name="client")
def fixture_client(settings) -> Iterator[TestClient]:
    """A test client with the lifespan run (model loaded, store opened)."""
    with TestClient(create_app(settings)) as client:
        yield client
