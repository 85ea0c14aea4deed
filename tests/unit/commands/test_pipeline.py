"""Output paths read from dvc.yaml (the one place they are declared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaizen import KaizenError
from kaizen.commands.pipeline import stage_option

ROOT = Path(__file__).resolve().parents[3]


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
