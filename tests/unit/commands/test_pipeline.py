"""dvc.yaml read as data: stage options, metrics files and their stages, plot data files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kaizen import KaizenError
from kaizen.commands import pipeline

ROOT = Path(__file__).resolve().parents[3]
DVC_YAML = ROOT / "dvc.yaml"
PARAMS = ROOT / "params.yaml"

SMALL = """
stages:
  fit:
    cmd: python fit.py --data ${data.path} --model=out/model.bin --seed ${train.seed}
    outs:
      - out
      - scores.json:
          cache: false
metrics:
  - out/metrics.json
  - scores.json
plots:
  - out/roc.json:
      x: fpr
      y: tpr
  - Curves:
      x: {out/x.csv: a}
      y: {out/y.csv: b, out/roc.json: c}
  - out/bare.csv
"""


@pytest.fixture(name="small")
def fixture_small(tmp_path: Path) -> Path:
    """A small dvc.yaml and params.yaml in tmp_path."""
    (tmp_path / "params.yaml").write_text("data: {path: in.csv}\ntrain: {seed: 7}\n")
    path = tmp_path / "dvc.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_stage_option_reads_the_repository_pipeline():
    """The train stage's paths, as dvc.yaml passes them."""
    assert pipeline.stage_option("train", "model", DVC_YAML, PARAMS) == "models/model.joblib"
    assert pipeline.stage_option("train", "info", DVC_YAML, PARAMS) == "models/model.json"
    assert pipeline.stage_option("ingest", "input", DVC_YAML, PARAMS) == "data/raw/credit_data.csv"


def test_stage_option_forms_and_interpolation(small):
    """`--opt value`, `--opt=value` and `${key}` from params.yaml."""
    params = small.parent / "params.yaml"
    assert pipeline.stage_option("fit", "data", small, params) == "in.csv"
    assert pipeline.stage_option("fit", "model", small, params) == "out/model.bin"
    assert pipeline.stage_option("fit", "seed", small, params) == "7"


@pytest.mark.parametrize(
    "stage, option, message",
    [
        ("nope", "model", "no stage named 'nope' (have: fit)"),
        ("fit", "output", "stage 'fit' has no --output option in its cmd"),
    ],
)
def test_stage_option_errors(small, stage, option, message):
    """A missing stage or option is a one-line error naming it."""
    with pytest.raises(KaizenError, match=re.escape(message)):
        pipeline.stage_option(stage, option, small, small.parent / "params.yaml")


def test_interpolation_of_an_unknown_key(small):
    """`${data.path}` with no such key in params.yaml names the key."""
    params = small.parent / "params.yaml"
    params.write_text("train: {seed: 7}\n")
    with pytest.raises(KaizenError, match=r"no key 'data.path' \(used as \$\{data.path\}"):
        pipeline.stage_option("fit", "data", small, params)


def test_unreadable_files(tmp_path):
    """Missing, invalid or non-mapping YAML: one line naming the file."""
    with pytest.raises(KaizenError, match="dvc.yaml: file not found"):
        pipeline.load(tmp_path / "dvc.yaml")
    (tmp_path / "bad.yaml").write_text("stages: [\n")
    with pytest.raises(KaizenError, match="bad.yaml: invalid YAML"):
        pipeline.load(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(KaizenError, match="list.yaml: expected a mapping"):
        pipeline.load(tmp_path / "list.yaml")


def test_metric_files_with_their_stage():
    """Each metrics file of the repository maps to the stage whose output holds it."""
    assert pipeline.metric_files(DVC_YAML) == {
        "metrics/ingest.json": "ingest",
        "metrics/train.json": "train",
        "metrics/evaluate/metrics.json": "evaluate",
        "metrics/drift/metrics.json": "drift",
    }


def test_metric_file_no_stage_writes(small):
    """A metrics file outside every stage's outs is an error."""
    small.write_text(SMALL.replace("  - scores.json\nplots", "  - other.json\nplots"))
    with pytest.raises(KaizenError, match="metrics file other.json is no stage's output"):
        pipeline.metric_files(small)


def test_plot_files(small):
    """Files named in x/y, else the plot id; each once, in order."""
    assert pipeline.plot_files(small) == ["out/roc.json", "out/x.csv", "out/y.csv", "out/bare.csv"]


def test_repository_plot_files_exist():
    """Every plot data file of the repository's dvc.yaml is in git (metrics/)."""
    found = pipeline.plot_files(DVC_YAML)
    assert len(found) == 12
    assert all((ROOT / name).is_file() for name in found), found
