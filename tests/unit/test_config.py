"""params.yaml -> frozen, validated configuration."""

from datetime import date, datetime
from pathlib import Path

import pydantic
import pytest
import yaml

from kaizen import KaizenError, cli
from kaizen.config import DataConfig, EvaluateConfig, parse_params
from kaizen.splits import DateSplit, NoSplit, RowSplit, ShareSplit, deprecations, parse_date
from kaizen.io.params import load_params
from tests.unit.helpers import params_dict, write_params

ROOT = Path(__file__).resolve().parents[2]


def test_repository_params_load():
    """The committed params.yaml is valid and keeps its documented defaults."""
    params = load_params(ROOT / "params.yaml")
    assert params.data.target == "Status"
    assert params.train.model in {"logreg", "rf", "hgb"}
    assert params.evaluate.threshold == "cost"


def test_defaults_fill_missing_sections():
    """Only `data` is required; the other sections take their defaults."""
    params = parse_params({"data": {"path": "x.csv", "target": "y", "positive": 1}})
    assert params.prepare.test_size == 0.25
    assert params.train.outliers.method == "clip"
    assert params.train.pca.n_components is None
    assert params.evaluate.cost_fn == 5.0
    assert params.data.split == NoSplit(by="none")
    assert params.evaluate.cv_folds == 5 and params.evaluate.grades == []
    assert params.train.calibration == "none"
    assert params.train.categories.min_frequency == 5
    assert params.report.min_delta_auc == 0.005


def test_sections_are_frozen():
    """Config objects cannot be mutated after loading."""
    params = parse_params(params_dict())
    with pytest.raises(pydantic.ValidationError):
        params.train.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"train": {"modle": "rf"}}, "train.modle: unknown key (typo?)"),
        ({"train": {"logreg": {"C": "abc"}}}, "train.logreg.C: Input should be a valid number"),
        ({"train": {"logreg": {"C": -1}}}, "train.logreg.C: Input should be greater than 0"),
        (
            {"train": {"model": "svm"}},
            "train.model: Input should be 'logreg', 'rf', 'hgb' or 'scorecard'",
        ),
        ({"data": {"columns": {"a": "text"}}}, "data.columns.a: Input should be"),
        ({"data": {"current_start": 1.5}}, "data.current_start: Value error, a fraction must"),
        ({"data": {"current_start": 1}}, "data.current_start: Value error, a row number must"),
        ({"data": {"current_start": True}}, "data.current_start: Value error, must be a row"),
        ({"evaluate": {"threshold": 2.0}}, "evaluate.threshold: Value error, must lie in [0, 1]"),
        ({"prepare": {"test_size": 1}}, "prepare.test_size: Input should be less than 1"),
        (
            {"evaluate": {"threshold": "oracle"}},
            "evaluate.threshold: Input should be a valid number",
        ),
        ({"evaluate": {"cv_folds": 1}}, "evaluate.cv_folds: Input should be greater than or"),
        ({"evaluate": {"grades": [0.2, 0.1]}}, "evaluate.grades: Value error, PD cut-offs must"),
        ({"evaluate": {"grades": [0, 0.1]}}, "evaluate.grades: Value error, each PD cut-off"),
        (
            {"evaluate": {"cost_fn": 0, "cost_fp": 0}},
            "evaluate: Value error, cost_fn and cost_fp cannot both be 0",
        ),
        ({"train": {"calibration": "platt"}}, "train.calibration: Input should be 'none',"),
        (
            {"train": {"categories": {"min_frequency": 1.5}}},
            "train.categories.min_frequency: Value error, a fraction must",
        ),
        (
            {"train": {"categories": {"min_frequency": 0}}},
            "train.categories.min_frequency: Value error, a count must be >= 1",
        ),
        (
            {"train": {"categories": {"min_frequency": True}}},
            "train.categories.min_frequency: Value error, must be a count",
        ),
        ({"train": {"categories": {"max_categories": 1}}}, "train.categories.max_categories: "),
        ({"report": {"min_delta_auc": -0.1}}, "report.min_delta_auc: Input should be greater"),
    ],
)
def test_invalid_values_name_the_key(update, expected):
    """Each invalid value is reported on one line as `file: dotted.key: problem`."""
    with pytest.raises(KaizenError) as caught:
        parse_params(params_dict(update), "p.yaml")
    message = str(caught.value)
    assert message.startswith(f"p.yaml: {expected}"), message
    assert "\n" not in message


DATE = {"by": "date", "column": "m"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"split": {"by": "row", "start": 1}}, "data.split.start: Input should be greater"),
        ({"split": {"by": "row", "start": True}}, "data.split.start: Value error, must be a"),
        ({"split": {"by": "share", "current": 1}}, "data.split.current: Input should be less"),
        ({"split": {"by": "share", "current": False}}, "data.split.current: Value error"),
        ({"split": {"by": "month"}}, "data.split: Input tag 'month' found using 'by'"),
        ({"split": {"start": 3}}, "data.split: Unable to extract tag using discriminator 'by'"),
        ({"split": {"by": "row", "start": 3, "at": 1}}, "data.split.at: unknown key (typo?)"),
        (
            {"split": {**DATE, "current_from": "2018/03"}},
            "data.split.current_from: Value error, '2018/03' is not an ISO date",
        ),
        (
            {"split": {**DATE, "current_from": "x", "format": "%Y"}},
            "data.split.current_from: Value error, 'x' is not an ISO date such as 2018-03 or "
            "2018-03-15 nor in format '%Y'",
        ),
        ({"split": DATE}, "data.split.current_from: Field required"),
        (
            {"split": {"by": "none"}, "current_start": 3},
            "data: Value error, current_start is deprecated and replaced by split: keep split only",
        ),
        (
            {"split": {**DATE, "current_from": "2018-03"}, "columns": {"m": "numeric"}},
            "data: Value error, columns.m: the date column of split cannot be a feature",
        ),
    ],
)
def test_invalid_splits_name_the_key(data, expected):
    """Each invalid data.split (or split with the deprecated key) is one line naming the key."""
    raw = params_dict()
    del raw["data"]["split"]
    raw["data"].update(data)
    with pytest.raises(KaizenError) as caught:
        parse_params(raw, "p.yaml")
    assert str(caught.value).startswith(f"p.yaml: {expected}"), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ([], "data.key: Value error, an empty list: give a column name"),
        (" ", "data.key: Value error, a column name cannot be blank"),
        (["Id", "Id"], "data.key: Value error, a column is listed twice"),
        (3, "data.key: Input should be a valid string"),
    ],
)
def test_invalid_key_names_the_key(key, expected):
    """data.key is a column name or a list of distinct ones; anything else is one line."""
    raw = params_dict()
    raw["data"]["key"] = key
    with pytest.raises(KaizenError) as caught:
        parse_params(raw, "p.yaml")
    assert str(caught.value).startswith(f"p.yaml: {expected}"), str(caught.value)
    assert "\n" not in str(caught.value)


def test_key_columns():
    """One name or a list, as a list; no key by default."""
    base = {"path": "x.csv", "target": "y", "positive": 1}
    assert not DataConfig(**base).key_columns
    assert DataConfig(**base, key="Id").key_columns == ["Id"]
    assert DataConfig(**base, key=["branch", "loan"]).key_columns == ["branch", "loan"]


def test_several_problems_are_counted():
    """The first problem is shown, the others are counted."""
    raw = params_dict({"train": {"modle": "rf", "scalling": "none"}})
    with pytest.raises(KaizenError, match=r"\(and 1 more problem\)$"):
        parse_params(raw)
    raw = params_dict({"train": {"modle": "rf", "scalling": "none", "sed": 1}})
    with pytest.raises(KaizenError, match=r"\(and 2 more problems\)$"):
        parse_params(raw)


def test_missing_required_key():
    """A required key that is absent is named."""
    raw = params_dict()
    del raw["data"]["path"]
    with pytest.raises(KaizenError, match=r"^params.yaml: data.path: Field required$"):
        parse_params(raw)


@pytest.mark.parametrize("raw", [None, [1, 2], "text"])
def test_top_level_must_be_a_mapping(raw):
    """A YAML list, scalar or empty file is rejected."""
    with pytest.raises(KaizenError, match="expected a mapping of sections"):
        parse_params(raw, "p.yaml")


BASE = {"path": "x.csv", "target": "y", "positive": "bad"}


@pytest.mark.parametrize(
    ("old", "split"),
    [
        (10, RowSplit(by="row", start=10)),
        (0.3, ShareSplit(by="share", current=0.3)),
        ("none", NoSplit(by="none")),
    ],
)
def test_deprecated_current_start_becomes_a_split(old, split):
    """The old key keeps working: a row number, a share or 'none' become the equal split."""
    config = DataConfig(**BASE, current_start=old)
    assert config.split == split
    assert config.date_column is None
    assert parse_params({"data": {**BASE, "split": split.model_dump()}}).data.split == split


def test_deprecation_message_names_the_replacement(tmp_path, capsys):
    """Loading a params.yaml with current_start warns once on stderr, naming data.split."""
    path = tmp_path / "params.yaml"
    raw = {"data": {**BASE, "current_start": 2479}}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with cli.diagnostics("ingest"):
        assert load_params(path).data.split == RowSplit(by="row", start=2479)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"kaizen ingest: warning: {path}: data.current_start is deprecated: write data.split: "
        "{by: row, start: 2479} instead (`kaizen data add` migrates it)"
    ]
    assert not deprecations({"data": {**BASE, "split": {"by": "none"}}})
    assert not deprecations({"data": {**BASE, "current_start": True}})
    assert not deprecations(["data"])
    with cli.diagnostics("ingest"):
        load_params(write_params(tmp_path / "new.yaml"))
    assert capsys.readouterr().err == ""


def test_date_split_forms():
    """A date split: ISO or column-format current_from, YAML dates, optional format."""
    split = {"by": "date", "column": "month", "format": "%b-%Y", "current_from": "Mar-2018"}
    config = DataConfig(**BASE, split=split)
    assert isinstance(config.split, DateSplit) and config.date_column == "month"
    assert parse_date(config.split.current_from, "%b-%Y") == datetime(2018, 3, 1)
    iso = {"by": "date", "column": "day", "current_from": date(2018, 3, 15)}
    assert DataConfig(**BASE, split=iso).split.current_from == "2018-03-15"
    assert parse_date("2018-03") == datetime(2018, 3, 1)
    assert parse_date("2018-03-15T08:30") == datetime(2018, 3, 15, 8, 30)
    dropped = DataConfig(**BASE, split=split, columns={"month": "drop"})
    assert dropped.date_column == "month"


def test_threshold_forms():
    """`threshold` is 'cost' or a probability."""
    assert EvaluateConfig(threshold="cost").threshold == "cost"
    assert EvaluateConfig(threshold=0.4).threshold == 0.4
    with pytest.raises(pydantic.ValidationError):
        EvaluateConfig(threshold=-0.1)


def test_drift_psi_thresholds_ordered():
    """drift.psi_warning above drift.psi_alert is rejected, naming the section."""
    with pytest.raises(KaizenError, match=r"^p.yaml: drift: Value error, psi_warning must not"):
        parse_params(params_dict({"drift": {"psi_warning": 0.3, "psi_alert": 0.2}}), "p.yaml")
    params = parse_params(params_dict({"drift": {"psi_warning": 0.2, "psi_alert": 0.2}}))
    assert params.drift.psi_alert == 0.2
