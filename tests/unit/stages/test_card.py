"""card stage: the change log's base read through git; no model_card section, no card."""

import json
import subprocess

import pytest
import yaml

from kaizen import KaizenError
from kaizen.stages import card
from tests.unit.helpers import git_repo, make_params, params_dict

CARD = {"model_card": {"intended_use": "tests", "out_of_scope": ["x"], "base": "main"}}


def test_base_params_and_metrics_come_from_git(tmp_path, monkeypatch):
    """The base revision's params (validated) and evaluate metrics; an unknown one is a note."""
    git_repo(tmp_path, monkeypatch)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict()), encoding="utf-8")
    (tmp_path / "metrics" / "evaluate").mkdir(parents=True)
    (tmp_path / "metrics" / "evaluate" / "metrics.json").write_text(
        json.dumps({"test": {"roc_auc": 0.8}}), encoding="utf-8"
    )
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run(["git", "commit", "-qm", "base"], check=True)
    found = card._base(make_params(CARD))  # pylint: disable=protected-access
    assert found["revision"] == "main" and len(found["commit"]) == 40
    assert found["params"]["train"]["logreg"]["C"] == 1.0
    assert found["evaluation"] == {"test": {"roc_auc": 0.8}}
    missing = card._base(  # pylint: disable=protected-access
        make_params({**CARD, "model_card": {**CARD["model_card"], "base": "v9"}})
    )
    assert missing == {"revision": "v9", "note": "revision not found in this clone"}


def test_no_model_card_section_is_a_one_line_error(tmp_path):
    """The card needs the team's intended use: without the section the stage stops first."""
    with pytest.raises(KaizenError, match="params.yaml: model_card: missing"):
        card.run(make_params(), **{name: str(tmp_path / name) for name in card.PATHS})
    assert not list(tmp_path.iterdir())
