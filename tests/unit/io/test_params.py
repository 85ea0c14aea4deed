"""Reading params.yaml: parsed and validated, one-line errors for a missing or broken file."""

import pytest
import yaml

from kaizen import KaizenError
from kaizen.config import Params
from kaizen.io.params import load_params, read_params_text
from tests.unit.helpers import write_params


def test_load_params_reads_file(tmp_path):
    """load_params parses a YAML file into Params."""
    path = write_params(tmp_path / "params.yaml", {"train": {"model": "rf"}})
    params = load_params(path)
    assert isinstance(params, Params)
    assert params.train.model == "rf"
    assert params.train.rf.n_estimators == 10


def test_load_params_missing_file(tmp_path):
    """A missing params file is named."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(KaizenError, match=r"nope.yaml: file not found$"):
        load_params(path)


def test_load_params_invalid_yaml_gives_line(tmp_path):
    """Broken YAML is reported with its line number."""
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  path: x.csv\n  target: [unclosed\n", encoding="utf-8")
    with pytest.raises(KaizenError, match=r"params.yaml: invalid YAML at line \d+$"):
        load_params(path)


def test_load_params_invalid_yaml_without_mark(tmp_path, monkeypatch):
    """A YAML error without a position is still one line."""

    def broken(_text):
        raise yaml.YAMLError("boom")

    monkeypatch.setattr("kaizen.io.params.yaml.safe_load", broken)
    path = write_params(tmp_path / "params.yaml")
    with pytest.raises(KaizenError, match=r"params.yaml: invalid YAML$"):
        load_params(path)


def test_read_params_text_keeps_the_text(tmp_path):
    """The text as written (comments too) and its content; one-line errors otherwise."""
    path = tmp_path / "params.yaml"
    path.write_text("data:  # the raw data\n  path: x.csv\n", encoding="utf-8")
    assert read_params_text(path) == (
        "data:  # the raw data\n  path: x.csv\n",
        {"data": {"path": "x.csv"}},
    )
    with pytest.raises(KaizenError, match=r"nope.yaml: file not found$"):
        read_params_text(tmp_path / "nope.yaml")
    path.write_text("data: [unclosed\n", encoding="utf-8")
    with pytest.raises(KaizenError, match=r"params.yaml: invalid YAML$"):
        read_params_text(path)
