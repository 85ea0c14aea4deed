"""Registered bundles: idempotent by version, a different document under a version refused,
read back as stored."""

import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.events import bundles
from kaizen.events.engine import create_engine

BUNDLE = {  # bundle.json's shape: its threshold is an object with the rule that chose it
    "format_version": 1,
    "version": "3f2a9c1d",
    "threshold": {"value": 0.27, "rule": "cost", "description": "cost-optimal"},
    "schema": {"numeric": ["Income"], "categorical": ["Home"]},
    "metrics": {"test": {"roc_auc": 0.81}},
}


@pytest.fixture(name="engine")
def fixture_engine(db):
    """An engine on the initialised store."""
    engine = create_engine(db)
    yield engine
    engine.dispose()


def test_register_is_idempotent_and_read_gives_the_document(engine):
    """The same document twice is one row; read returns it, unknown versions are left out."""
    bundles.register(engine, BUNDLE)
    bundles.register(engine, dict(BUNDLE))
    other = {**BUNDLE, "version": "77aa", "threshold": 1}
    bundles.register(engine, other)
    assert bundles.read(engine, ["3f2a9c1d", "77aa", "nope"]) == {
        "3f2a9c1d": BUNDLE,
        "77aa": other,
    }
    assert bundles.read(engine, []) == {}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT version, threshold FROM bundles ORDER BY 1").all()
    assert rows == [("3f2a9c1d", 0.27), ("77aa", 1.0)]


def test_another_document_under_a_version_is_refused(engine):
    """A version names one bundle for ever: a changed document is a one-line error."""
    bundles.register(engine, BUNDLE)
    changed = {**BUNDLE, "metrics": {"test": {"roc_auc": 0.82}}}
    with pytest.raises(KaizenError, match="bundle 3f2a9c1d is already registered with another"):
        bundles.register(engine, changed)
    assert bundles.read(engine, ["3f2a9c1d"])["3f2a9c1d"] == BUNDLE


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"threshold": 0.2}, "'version' must be a string"),
        ({"version": "", "threshold": 0.2}, "'version' must be a string"),
        ({"version": "v", "threshold": "high"}, "bundle v: 'threshold' must be a number"),
        ({"version": "v", "threshold": True}, "'threshold' must be a number"),
        ({"version": "v", "threshold": {"rule": "cost"}}, "or have a number 'value'"),
        ({"version": "v", "threshold": 0.2, "when": object()}, "bundle v: not JSON"),
    ],
)
def test_bad_documents_are_one_line(engine, document, fragment):
    """Missing or mistyped keys: a KaizenError naming the field, nothing stored."""
    with pytest.raises(KaizenError, match=fragment):
        bundles.register(engine, document)
    assert bundles.read(engine, ["v"]) == {}


def test_registered_meanwhile_by_another_process(engine, monkeypatch):
    """The version appears between the read and the insert: compared with what was stored."""
    bundles.register(engine, BUNDLE)
    real, calls = bundles.read, []

    def late(engine, versions):
        calls.append(versions)
        return {} if len(calls) % 2 else real(engine, versions)

    monkeypatch.setattr(bundles, "read", late)
    bundles.register(engine, BUNDLE)
    with pytest.raises(KaizenError, match="already registered with another document"):
        bundles.register(engine, {**BUNDLE, "threshold": 0.5})
    assert len(calls) == 4


def test_test_scores_are_stored_with_the_bundle(engine):
    """The test split's rows are stored with the bundle and read back as they were; a second
    registration does not duplicate them; a malformed frame is a one-line error."""
    scores = pd.DataFrame({"row": [3, 1, 2], "score": [0.2, 0.9, 0.4], "label": [0, 1, 0]})
    bundles.register(engine, BUNDLE, scores)
    bundles.register(engine, BUNDLE, scores)
    expected = scores.sort_values("row").reset_index(drop=True)
    pd.testing.assert_frame_equal(bundles.read_scores(engine, "3f2a9c1d"), expected)
    assert bundles.read_scores(engine, "nope").empty
    other = {**BUNDLE, "version": "88bb"}
    with pytest.raises(KaizenError, match="missing column"):
        bundles.register(engine, other, scores.drop(columns="label"))
    with pytest.raises(KaizenError, match="'label' must be 0 or 1"):
        bundles.register(engine, other, scores.assign(label=[0, 2, 1]))
    assert bundles.read(engine, ["88bb"]) == {}
