"""Output paths read from dvc.yaml (the one place they are declared): stage options, metrics
files with their stage, plot data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaizen import KaizenError
from kaizen.commands import pipeline
from kaizen.commands.pipeline import stage_option

ROOT = Path(__file__).resolve().parents[3]
DVC_YAML = ROOT / "dvc.yaml"

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


def test_the_project_dvc_yaml_gives_the_evaluate_and_drift_folders():
    """The report and monitoring read these; they follow dvc.yaml."""
    assert stage_option("evaluate", "output", ROOT / "dvc.yaml") == "metrics/evaluate"
    assert stage_option("drift", "output", ROOT / "dvc.yaml") == "metrics/drift"
    assert stage_option("train", "model", ROOT / "dvc.yaml") == "models/model.joblib"


def test_moved_outputs_are_followed(tmp_path):
    """`--opt value`, `--opt=value` and list commands; quoting handled by shlex."""
    dvcfile = tmp_path / "dvc.yaml"
    dvcfile.write_text(
        "stages:\n"
        "  evaluate: {cmd: \"python -m kaizen evaluate --output 'out dir/eval'\"}\n"
        "  drift: {cmd: [python -m kaizen drift, --output=elsewhere/drift]}\n",
        encoding="utf-8",
    )
    assert stage_option("evaluate", "output", dvcfile) == "out dir/eval"
    assert stage_option("drift", "output", dvcfile) == "elsewhere/drift"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "dvc.yaml: file not found"),
        ("stages: [", "dvc.yaml: invalid YAML"),
        ("- a list\n", "dvc.yaml: expected a mapping"),
        ("stages: {}\n", "no stage 'evaluate' with a cmd"),
        ("stages: {evaluate: {cmd: python -m kaizen evaluate}}\n", "passes no --output"),
    ],
)
def test_errors_name_the_file_and_the_problem(tmp_path, content, message):
    """One line naming dvc.yaml and what is missing."""
    dvcfile = tmp_path / "dvc.yaml"
    if content is not None:
        dvcfile.write_text(content, encoding="utf-8")
    with pytest.raises(KaizenError, match=message):
        stage_option("evaluate", "output", dvcfile)


def test_an_optional_option_is_none_where_there_is_no_answer(tmp_path):
    """A stage or option dvc.yaml lacks (an older pipeline), or no dvc.yaml: None."""
    dvcfile = tmp_path / "dvc.yaml"
    assert pipeline.optional_stage_option("evaluate", "output", dvcfile) is None
    dvcfile.write_text("stages: {drift: {cmd: python -m kaizen drift}}\n", encoding="utf-8")
    assert pipeline.optional_stage_option("fairness", "output", dvcfile) is None
    assert pipeline.optional_stage_option("drift", "output", dvcfile) is None
    assert pipeline.optional_stage_option("evaluate", "output", DVC_YAML) == "metrics/evaluate"


@pytest.fixture(name="small")
def fixture_small(tmp_path: Path) -> Path:
    """A small dvc.yaml and params.yaml in tmp_path."""
    (tmp_path / "params.yaml").write_text("data: {path: in.csv}\ntrain: {seed: 7}\n")
    path = tmp_path / "dvc.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_interpolation_from_params(small):
    """`${key}` takes its value from params.yaml, as DVC does; the ingest input of the project."""
    params = small.parent / "params.yaml"
    assert stage_option("fit", "data", small, params) == "in.csv"
    assert stage_option("fit", "model", small, params) == "out/model.bin"
    assert stage_option("fit", "seed", small, params) == "7"
    real = stage_option("ingest", "input", DVC_YAML, ROOT / "params.yaml")
    assert real == "data/raw/credit_data.csv"


def test_interpolation_of_an_unknown_key(small):
    """`${data.path}` with no such key in params.yaml names the key."""
    params = small.parent / "params.yaml"
    params.write_text("train: {seed: 7}\n")
    with pytest.raises(KaizenError, match=r"no key 'data.path' \(used as \$\{data.path\}"):
        stage_option("fit", "data", small, params)


def test_metric_files_with_their_stage():
    """Each metrics file of the repository maps to the stage whose output holds it."""
    assert pipeline.metric_files(DVC_YAML) == {
        "metrics/ingest.json": "ingest",
        "metrics/train.json": "train",
        "metrics/train/scorecard.json": "scorecard",
        "metrics/evaluate/metrics.json": "evaluate",
        "metrics/drift/metrics.json": "drift",
        "metrics/fairness/metrics.json": "fairness",
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
    assert len(found) == 13  # 12 of evaluate, the fairness approval plot
    assert all((ROOT / name).is_file() for name in found), found
