"""The model card: every section filled from the pipeline's outputs, validated by the schema;
an empty section fails; the change log compares with the base revision's params and figures."""

import json
from pathlib import Path

import pytest

from kaizen import KaizenError
from kaizen.card import build as B
from kaizen.card.rendering import TITLES, markdown
from tests.unit.helpers import make_params

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "src/kaizen/card/model_card.schema.json").read_text()
)


@pytest.fixture(name="card")
def fixture_card(bundled):
    """The card the session's pipeline built (tests/unit/conftest.py: the card stage)."""
    return json.loads((bundled.parent / "card.json").read_text(encoding="utf-8"))


def test_every_section_is_there_and_valid(card):
    """Ten sections, none empty, the schema passes; the markdown has a heading per section."""
    assert list(card) == list(TITLES)
    for name, section in card.items():
        assert section, name
    B.validate(card, SCHEMA, "card.json")
    text = markdown(card)
    for title in TITLES.values():
        body = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
        assert body.strip(), title


@pytest.mark.parametrize(
    "section, empty, where",
    [
        ("limitations", [], "limitations"),
        ("performance", {"cv": {}, "test": {"roc_auc": 0.8, "calibration": {}}}, "performance.cv"),
        ("intended_use", {"intended": "", "out_of_scope": ["x"]}, "intended_use.intended"),
        ("method", {"model": "logreg", "features": [], "threshold": {}}, "method.features"),
        ("change_log", {"base": "none"}, "change_log"),
    ],
)
def test_an_empty_section_fails(card, section, empty, where):
    """The schema refuses an empty section with a one-line error naming it."""
    with pytest.raises(KaizenError, match=f"card.json: {where}: .*model card schema"):
        B.validate({**card, section: empty}, SCHEMA, "card.json")


def test_flagged_protected_attribute_in_the_card(card):
    """The session's fairness run declares Home protected while the model uses it: the card's
    data, fairness and limitations sections say so."""
    assert card["fairness"]["protected_in_model"] == ["Home"]
    assert "USED BY THE MODEL" in card["data"]["protected"][0]["handling"]
    assert any("Protected attributes used by the model" in line for line in card["limitations"])
    assert "**Protected attributes used by the model: ['Home']**" in markdown(card)


def test_scorecard_points_are_rendered_when_the_file_exists(card):
    """A points table (whatever its columns) is printed; without one, a line says so."""
    assert "Not a scorecard: the scorecard benchmark" in markdown(card)
    rows = [{"feature": "Income", "bin": "[0, 100)", "points": 12.5}]
    text = markdown({**card, "method": {**card["method"], "scorecard": rows}})
    assert "| feature | bin | points |" in text and "| Income | [0, 100) | 12.5 |" in text


def test_change_log_against_the_base():
    """Changed params and headline figures, or a note when the base is unknown."""
    params = make_params({"train": {"logreg": {"C": 0.5}}})
    before = make_params().model_dump(mode="json")
    base = B.base_revision("v1", "a" * 40, before, {"test": {"roc_auc": 0.8}})
    src = B.Sources(params, {}, "", {}, {}, {"test": {"roc_auc": 0.82}}, [], {}, {}, {}, None, base)
    log = B.change_log(src)
    assert log["params"] == {"train.logreg.C": {"base": 1.0, "now": 0.5}}
    assert log["figures"]["test.roc_auc"]["delta"] == pytest.approx(0.02)
    missing = B.base_revision("v9", None, None, None)
    assert B.change_log(src._replace(base=missing))["note"] == "revision not found in this clone"


def test_points_only_for_a_scorecard_model_and_json_safe():
    """The benchmark's table stays out of a logreg card; a scorecard's open bins (+-inf) become
    None, so the card is strict JSON (a -inf once failed the card stage)."""
    rows = [{"feature": "Income", "bin": "[-inf, 100)", "lower": float("-inf"), "points": 12.0}]
    src = B.Sources(make_params(), {}, "", {}, {}, {"threshold": 0.2}, [], {}, {}, {}, rows, None)
    assert B.method(src)["scorecard"] is None
    scorecard = make_params({"train": {"model": "scorecard", "calibration": "none"}})
    found = B.method(src._replace(params=scorecard))["scorecard"]
    assert found == [{"feature": "Income", "bin": "[-inf, 100)", "lower": None, "points": 12.0}]
