"""The report's I/O layer on a tiny real git repository (dvc views stubbed: see integration)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.config import DriftConfig
from kaizen.commands import report as stage
from kaizen.commands import runner
from tests.unit.helpers import git_repo
from tests.unit.reporting.samples import DRIFT, FEATURES, pr_points, roc_points, scores

ROOT = Path(__file__).resolve().parents[3]

PARAMS = "data:\n  path: data/raw.csv\n  target: Status\n  positive: bad\n"
DAG = '```mermaid\nflowchart TD\n\tnode1["evaluate"]\n```'


def git(*args: str) -> None:
    """Run git in the current folder."""
    subprocess.run(["git", *args], check=True, capture_output=True)


def write(path: str, content) -> None:
    """Write text or JSON under the current folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    Path(path).write_text(text, encoding="utf-8")


def write_outputs(noise: float, rows: slice = slice(None)) -> None:
    """Evaluate-like outputs of a model whose quality is set by `noise`."""
    frame = scores(0, noise=noise).iloc[rows]
    write("metrics/evaluate/metrics.json", {"threshold": 0.2, "test": {"roc_auc": 1 - noise / 4}})
    Path("metrics/evaluate/scores").mkdir(parents=True, exist_ok=True)
    for part in ("test", "current"):
        frame.to_csv(f"metrics/evaluate/scores/{part}.csv", index=False)
        write(f"metrics/evaluate/plots/sklearn/roc/{part}.json", {"roc": roc_points(frame)})
        write(
            f"metrics/evaluate/plots/sklearn/precision_recall/{part}.json",
            {"precision_recall": pr_points(frame)},
        )


def raw_csv(rows: int, extra: str = "") -> str:
    """A raw data file: Status, Age (+ an optional extra column)."""
    header = "Status,Age" + (f",{extra}" if extra else "")
    lines = [
        f"{'bad' if i % 4 == 0 else 'good'},{20 + i}" + (",x" if extra else "") for i in range(rows)
    ]
    return "\n".join([header, *lines]) + "\n"


@pytest.fixture(name="repo")
def fixture_repo(tmp_path, monkeypatch):
    """A git repository with one `main` commit holding metrics, scores, curves and raw data."""
    git_repo(tmp_path, monkeypatch)
    write("params.yaml", PARAMS)
    write("dvc.yaml", (ROOT / "dvc.yaml").read_text(encoding="utf-8"))  # where outputs live
    write("data/raw.csv", raw_csv(40))
    write_outputs(noise=2.0)
    git("add", "-A")
    git("commit", "-q", "-m", "main")
    calls = []

    def dvc(*args):
        calls.append(args)
        if args[0] == "metrics":
            diff = {"test.roc_auc": {"old": 0.5, "new": 0.875}}
            return json.dumps({"metrics/evaluate/metrics.json": diff, "broken.json": "error"})
        return DAG if args[0] == "dag" else "{}"

    monkeypatch.setattr(stage, "dvc_output", dvc)
    monkeypatch.setattr(stage, "cached_output", lambda commit, path: None)  # no DVC cache here
    return calls


def test_report_paired_on_unchanged_rows(repo):
    """Better scores on the same rows: paired interval, curves of both sides, dag, atomic write."""
    write_outputs(noise=0.5)
    result = stage.write_report("main", "out/report.md")
    text = Path("out/report.md").read_text(encoding="utf-8")
    assert result["characters"] == len(text)
    commit = subprocess.run(
        ["git", "rev-parse", "main"], capture_output=True, text=True, check=True
    )
    assert sorted(repo) == [
        ("dag", "--md"),
        ("metrics", "diff", commit.stdout.strip(), "--all", "--json"),
        ("params", "diff", commit.stdout.strip(), "--json"),
    ]
    assert "ROC AUC (test, in-time) 0.7883 → 0.9966 (+0.2083), **significant**" in text
    assert "paired bootstrap on the same 400 rows" in text
    assert text.count("xychart-beta") == 4
    assert "Raw data changed" not in text
    assert "Drift analysis not available" in text
    assert 'node1["evaluate"]' in text
    assert list(Path("out").iterdir()) == [Path("out/report.md")]


def test_report_on_changed_data_and_drift(repo):  # pylint: disable=unused-argument
    """Raw data edited (rows dropped, column added): data-change section, paired on the common
    rows, drift."""
    write("data/raw.csv", raw_csv(30, extra="Channel"))
    write_outputs(noise=2.0, rows=slice(50, None))
    outputs = stage.Outputs.from_dvc_yaml()
    write(outputs.drift, DRIFT)
    write(outputs.drift_features, FEATURES)
    text = (stage.write_report("main", "report.md"), Path("report.md").read_text(encoding="utf-8"))[
        1
    ]
    assert "### Raw data changed" in text
    assert "rows 40 → 30 (-10)" in text and "- columns added: Channel" in text
    assert "- target rate: 0.25 → 0.2667" in text
    assert "Raw data changed: 40 → 30 rows (10 removed, 0 added; no value changed)." in text
    assert "- 10 rows removed, 0 added, 0 reordered, 0 edited; no value changed (2 columns " in text
    assert (
        "rows differ (data or split changed): paired on the 350 rows both revisions scored, of "
        "base 400 and head 350"
    ) in text
    assert "**Dataset drift: 🔴 drift**" in text


def test_report_matches_rows_by_data_key(repo):  # pylint: disable=unused-argument
    """data.key in the head's params.yaml: rows are matched by it, also when reordered; a key
    column the data lacks is a one-line error naming data.key."""
    lines = raw_csv(40).splitlines()
    edited = [lines[0], *reversed(lines[1:])]
    edited[5] = edited[5].replace("good", "bad")
    write("data/raw.csv", "\n".join(edited) + "\n")
    write("params.yaml", PARAMS + "  key: Age\n")
    text = (stage.write_report("main", "report.md"), Path("report.md").read_text(encoding="utf-8"))[
        1
    ]
    assert "Base and head compared row by row: rows matched by `data.key` (`Age`)." in text
    assert "- `Status`: 1 row recoded (good → bad: 1)\n" in text
    assert "- 0 rows removed, 0 added, 39 reordered, 1 edited; no other column changed" in text
    write("params.yaml", PARAMS + "  key: [Age, Branch]\n")
    with pytest.raises(KaizenError, match=r"^params.yaml: data.key: no such column 'Branch' in "):
        stage.write_report("main", "report.md")


def test_report_data_moved_to_another_file(repo):  # pylint: disable=unused-argument
    """params.yaml points at another file: compared with the base's file."""
    write("params.yaml", PARAMS.replace("data/raw.csv", "data/other.csv"))
    write("data/other.csv", raw_csv(12))
    text = (stage.write_report("main", "report.md"), Path("report.md").read_text(encoding="utf-8"))[
        1
    ]
    assert "`data/raw.csv` (base) → `data/other.csv` differs from base: rows 40 → 12" in text


def test_unknown_base_is_a_one_line_error(repo):  # pylint: disable=unused-argument
    """An unknown revision names itself and the fix."""
    with pytest.raises(KaizenError, match="unknown base revision 'nope'.*fetch-depth: 0"):
        stage.write_report("nope", "report.md")
    assert not Path("report.md").exists()


def test_bad_files_are_named(repo):  # pylint: disable=unused-argument
    """Invalid JSON names the file."""
    with pytest.raises(KaizenError, match=r"m.json: invalid JSON"):
        stage.parse_json(b"{oops", "m.json")
    assert stage.parse_json(None, "m.json") is None


def test_dvc_failure_is_a_one_line_error(tmp_path, monkeypatch):
    """A failing dvc command (here: outside any DVC repository) reports its last error line."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        KaizenError, match=r"`dvc metrics diff` failed: ERROR: Only supported for Git"
    ):
        stage.dvc_output("metrics", "diff", "x")


def test_metrics_order_follows_the_file(repo):  # pylint: disable=unused-argument
    """Workspace metrics files give the row order; missing files are skipped."""
    order = stage._metrics_order(  # pylint: disable=protected-access
        {"metrics/evaluate/metrics.json": {}, "metrics/missing.json": {}}
    )
    assert order == {"metrics/evaluate/metrics.json": ["threshold", "test.roc_auc"]}


def test_images_need_matplotlib(repo, monkeypatch):  # pylint: disable=unused-argument
    """--images without matplotlib: one line, no report written."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(KaizenError, match="--images needs matplotlib"):
        stage.write_report("main", "report.md", images="img")
    assert not Path("report.md").exists()


def test_images_with_matplotlib(repo, monkeypatch):  # pylint: disable=unused-argument
    """With matplotlib (a stand-in here): one PNG per curve kind, linked relative to the report."""
    saved = []

    class Axis:  # pylint: disable=missing-function-docstring
        """Records the lines drawn."""

        def plot(self, *_args, **kwargs):
            saved.append(("plot", kwargs["label"]))

        def set(self, **kwargs):
            pass

        def legend(self):
            pass

    class Figure:  # pylint: disable=too-few-public-methods,missing-function-docstring
        """Writes a fake PNG."""

        def savefig(self, path, **kwargs):
            Path(path).write_bytes(b"\x89PNG")
            saved.append(("png", kwargs["format"]))

    pyplot = types.SimpleNamespace(
        subplots=lambda *a, **k: (Figure(), [Axis(), Axis()]), close=lambda figure: None
    )
    fake = types.SimpleNamespace(use=lambda backend: None, pyplot=pyplot)
    monkeypatch.setitem(sys.modules, "matplotlib", fake)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    stage.write_report("main", "out/report.md", images="out/img")
    text = Path("out/report.md").read_text(encoding="utf-8")
    assert "![ROC](img/roc.png)" in text and "![PR](img/precision_recall.png)" in text
    assert Path("out/img/roc.png").read_bytes() == b"\x89PNG"
    assert saved.count(("png", "png")) == 2 and ("plot", "base") in saved


def test_code_changes_lists_pipeline_code_only(repo):  # pylint: disable=unused-argument
    """Edited code under src/ and dvc.yaml count; metrics and other files do not."""
    write("src/kaizen/model.py", "# base\n")
    write("dvc.yaml", "stages: {}\n")
    git("add", "-A")
    git("commit", "-q", "-m", "code")
    commit = runner.resolve("main")
    assert not stage.code_changes(commit)
    write("src/kaizen/model.py", "# head\n")
    write("dvc.yaml", "stages: {train: {cmd: x}}\n")
    write("notes.txt", "x\n")
    write_outputs(noise=0.5)
    assert stage.code_changes(commit) == ["dvc.yaml", "src/kaizen/model.py"]


@pytest.mark.parametrize(
    ("data", "start"),
    [
        ({"split": {"by": "row", "start": 9}}, 9),
        ({"current_start": 12}, 12),
        ({"current_start": 0.3}, None),
        ({"split": {"by": "date", "column": "m", "current_from": "2018-03"}}, None),
        ({"split": {"by": "row", "start": "x"}}, None),
        ({}, None),
    ],
)
def test_row_split_start(data, start):
    """The row where a row-number split starts, from data.split or the deprecated key."""
    assert stage.row_split_start(data) == start


def test_drift_settings_of_the_head():
    """The head's drift section, or the defaults when it is absent or invalid."""
    # pylint: disable=protected-access
    assert stage._drift_settings(b"drift:\n  alpha: 0.01\n").alpha == 0.01
    assert stage._drift_settings(b"drift:\n  alpha: 7\n") == DriftConfig()
    assert stage._drift_settings(b"[unclosed") == DriftConfig()
    assert stage._drift_settings(None) == DriftConfig()


def full_copy(frame, parts=("test", "current")) -> bytes:
    """evaluate's DVC-cached Parquet of every row's score, for `parts`."""
    frames = [frame.assign(part=part)[["part", "row", "y", "score"]] for part in parts]
    buffer = io.BytesIO()
    pd.concat(frames).to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_report_pairs_every_row_of_the_full_copies(
    repo, monkeypatch
):  # pylint: disable=unused-argument
    """Full copies on both sides (the base's from the DVC cache): every row is paired, even the
    rows the git copies left out; without the base's copy, the git copies, and it says so."""
    full = scores(0, noise=0.5, rows=600)
    write_outputs(noise=0.5, rows=slice(0, 200))  # the git copies: 200 rows only
    path = stage.Outputs.from_dvc_yaml().full_scores
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(full_copy(full))
    asked = []

    def cached(commit, wanted):
        asked.append((commit, wanted))
        return full_copy(scores(0, noise=2.0, rows=600))

    monkeypatch.setattr(stage, "cached_output", cached)
    stage.write_report("main", "report.md")
    text = Path("report.md").read_text(encoding="utf-8")
    assert asked == [(runner.resolve("main"), path)]
    assert "paired bootstrap on the same 600 rows" in text
    assert "paired on every row (full score copies from the DVC cache)" in text
    monkeypatch.setattr(stage, "cached_output", lambda commit, wanted: None)
    stage.write_report("main", "report.md")
    text = Path("report.md").read_text(encoding="utf-8")
    assert "paired on the 400 rows both revisions scored, of base 400 and head 600" in text
    assert "full scores of the base not available" in text


def test_report_reads_its_params_section(repo):  # pylint: disable=unused-argument
    """report.min_delta_auc from params.yaml decides materiality; a bad value is one line."""
    write_outputs(noise=1.9)
    write("params.yaml", PARAMS + "report:\n  min_delta_auc: 0.5\n")
    stage.write_report("main", "report.md")
    text = Path("report.md").read_text(encoding="utf-8")
    assert "**significant, below the materiality threshold (0.5)**" in text
    write("params.yaml", PARAMS + "report:\n  min_delta_auc: -1\n")
    with pytest.raises(KaizenError, match="params.yaml: report.min_delta_auc: Input should be"):
        stage.write_report("main", "report.md")
