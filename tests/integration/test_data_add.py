"""kaizen data add in a real git + dvc repository: snapshots, bad files, date splits, Parquet."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import yaml

from kaizen import cli
from tests.integration.conftest import ROOT, Project, build_project, copy_project
from tests.unit.helpers import RAW_CASES, assert_one_line_error, write_raw_case

pytestmark = pytest.mark.integration

SNAPSHOT = "data/raw/loans.csv"
MONTHS = pd.date_range("2017-01-01", periods=18, freq="MS")  # Jan-2017 .. Jun-2018
GUARDED = ("params.yaml", SNAPSHOT, f"{SNAPSHOT}.dvc", "data/raw/.gitignore", ".dvcignore")


def monthly_loans(path: Path, rows: int = 600, seed: int = 3) -> pd.DataFrame:
    """Rows of the embedded data with an `issue_month` column (%b-%Y), months in random order."""
    source = ROOT / "data" / "raw" / "credit_data.csv"
    frame = pd.read_csv(source).iloc[:rows].copy()
    rng = np.random.default_rng(seed)
    months = rng.choice(len(MONTHS), rows)
    frame.insert(3, "issue_month", [MONTHS[i].strftime("%b-%Y") for i in months])
    frame["Seniority"] = frame["Seniority"] + np.arange(rows) * 100  # no duplicate rows
    frame.to_csv(path, index=False)
    return frame


def add(repo: Project, *options: str, check: bool = True):
    """`kaizen data add` run as a user runs it, in the repository."""
    return repo.run(
        *("env", "PYTHONPATH=src", "python", "-m", "kaizen", "data", "add", *options), check=check
    )


def snapshot_state(repo: Project) -> dict[str, bytes | None]:
    """The bytes of every file data add may touch (None when absent)."""
    return {
        name: (repo.path / name).read_bytes() if (repo.path / name).exists() else None
        for name in GUARDED
    }


class Registered(NamedTuple):
    """The registered repository and the output of its `kaizen data add`."""

    repo: Project
    result: subprocess.CompletedProcess


@pytest.fixture(scope="module", name="registered")
def fixture_registered(tmp_path_factory) -> Registered:
    """A repository whose data is a DVC-tracked monthly snapshot (committed): do not change it."""
    repo = build_project(tmp_path_factory.mktemp("registered") / "repo")
    shutil.copy2(ROOT / "params.yaml", repo.path / "params.yaml")  # with its comments
    repo.commit("params.yaml with comments")
    monthly_loans(repo.path / "loans.csv")
    result = add(
        repo,
        *("loans.csv", "--target", "Status", "--positive", "bad"),
        *("--split-date", "issue_month", "--date-format", "%b-%Y", "--current-from", "2018-03"),
    )
    (repo.path / "loans.csv").unlink()
    repo.commit("data: loans.csv")
    return Registered(repo, result)


@pytest.fixture(name="snapshot")
def fixture_snapshot(registered: Registered, tmp_path: Path) -> Project:
    """A private copy of the registered repository."""
    return copy_project(registered.repo, tmp_path / "repo")


def test_snapshot_is_dvc_tracked_and_params_updated(registered):
    """The file is in DVC (a .dvc file in git, the data git-ignored), params.yaml points at it
    with its comments kept, and the next command is printed."""
    result, registered = registered.result, registered.repo
    summary = json.loads(result.stdout)
    assert summary["snapshot"] == SNAPSHOT and summary["dvc_file"] == f"{SNAPSHOT}.dvc"
    assert summary["rows"] == 600
    assert summary["next"].startswith(f"dvc repro && git add {SNAPSHOT}.dvc data/raw/.gitignore")
    assert "next: dvc repro" in result.stderr
    tracked = registered.run("git", "ls-files", "data/raw").stdout.split()
    assert f"{SNAPSHOT}.dvc" in tracked and SNAPSHOT not in tracked
    assert "/loans.csv" in (registered.path / "data/raw/.gitignore").read_text(encoding="utf-8")
    dvc_file = yaml.safe_load((registered.path / f"{SNAPSHOT}.dvc").read_text(encoding="utf-8"))
    content = (registered.path / SNAPSHOT).read_bytes()
    assert dvc_file["outs"][0]["md5"] == hashlib.md5(content).hexdigest()
    text = (registered.path / "params.yaml").read_text(encoding="utf-8")
    assert "# read by ingest: point these at your own CSV" in text
    assert "# none | standard | robust" in text
    data = yaml.safe_load(text)["data"]
    assert data["path"] == SNAPSHOT
    assert data["split"] == {
        "by": "date",
        "column": "issue_month",
        "format": "%b-%Y",
        "current_from": "2018-03",
    }
    assert registered.run("dvc", "status").stdout.strip().startswith("ingest:")


def test_date_split_puts_exactly_the_rows_from_current_from_in_current(snapshot):
    """After `dvc repro ingest`: current = exactly the rows dated Mar-2018 or later, in date
    order; reference = every earlier row; the month column is no feature."""
    snapshot.run("dvc", "repro", "ingest")
    raw = pd.read_csv(snapshot.path / SNAPSHOT)
    raw.index = raw.index + 1  # data rows, 1-based, as ingest keeps them
    dates = pd.to_datetime(raw["issue_month"], format="%b-%Y")
    current = pd.read_parquet(snapshot.path / "data/ingest/current.parquet")
    reference = pd.read_parquet(snapshot.path / "data/ingest/reference.parquet")
    assert set(current.index) == set(raw.index[dates >= "2018-03-01"])
    assert set(reference.index) == set(raw.index[dates < "2018-03-01"])
    assert dates[current.index].is_monotonic_increasing
    assert dates[reference.index].is_monotonic_increasing
    assert 0 < len(current) < len(reference)
    schema = snapshot.json("data/ingest/schema.json")
    assert "issue_month" not in schema["numeric"] + schema["categorical"]
    assert "issue_month" not in current.columns


@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_bad_file_leaves_snapshot_and_params_untouched(snapshot, monkeypatch, capsys, case):
    """Each file of the pipeline's bad-input list: the ingest error, one line, exit 1; the
    previous snapshot, its .dvc file, .gitignore and params.yaml as they were, nothing new."""
    content, fragments = RAW_CASES[case]
    source = write_raw_case(snapshot.path / "incoming.csv", content)
    before = snapshot_state(snapshot)
    monkeypatch.chdir(snapshot.path)
    argv = ["data", "add", "incoming.csv", "--target", "Status", "--positive", "bad"]
    code = cli.main(argv + ["--name", "loans.csv", "--split-share", "0.3"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert_one_line_error(captured.err, "kaizen data add: error: incoming.csv", *fragments)
    assert snapshot_state(snapshot) == before
    source.unlink()
    assert snapshot.run("git", "status", "--porcelain").stdout == ""


def test_failed_dvc_add_restores_the_previous_snapshot(snapshot, monkeypatch, capsys):
    """A valid file that DVC refuses (here: .dvcignore'd) leaves the previous state whole."""
    (snapshot.path / ".dvcignore").write_text("data/raw/loans.csv\n", encoding="utf-8")
    monthly_loans(snapshot.path / "incoming.csv", rows=500, seed=4)
    before = snapshot_state(snapshot)
    monkeypatch.chdir(snapshot.path)
    argv = ["data", "add", "incoming.csv", "--target", "Status", "--positive", "bad"]
    assert cli.main(argv + ["--name", "loans.csv", "--split-share", "0.3"]) == 1
    assert_one_line_error(capsys.readouterr().err, "`dvc add data/raw/loans.csv` failed")
    assert snapshot_state(snapshot) == before


def test_refusals_before_any_write(snapshot, monkeypatch, capsys):
    """A file git tracks cannot become a DVC snapshot; a row split never carries over."""
    monthly_loans(snapshot.path / "incoming.csv", rows=500, seed=4)
    before = snapshot_state(snapshot)
    monkeypatch.chdir(snapshot.path)
    argv = ["data", "add", "incoming.csv", "--target", "Status", "--positive", "bad"]
    assert cli.main(argv + ["--name", "credit_data.csv", "--no-split"]) == 1
    assert_one_line_error(capsys.readouterr().err, "data/raw/credit_data.csv: tracked by git")
    assert cli.main(argv + ["--split-row", "300"]) == 0
    capsys.readouterr()
    assert cli.main(argv + ["--name", "again.csv"]) == 1
    assert_one_line_error(capsys.readouterr().err, "say how to split this snapshot")
    assert (snapshot.path / "data/raw/incoming.csv.dvc").is_file()
    assert not (snapshot.path / "data/raw/again.csv").exists()
    assert snapshot_state(snapshot)[SNAPSHOT] == before[SNAPSHOT]


def test_events_export_parquet_becomes_a_snapshot(project):
    """A Parquet export of labelled events (raw columns + target) is stored as CSV, tracked by
    DVC, and the pipeline runs on it; an old params.yaml's current_start is migrated."""
    old = project.params()
    del old["data"]["split"]
    old["data"]["current_start"] = 0.3
    (project.path / "params.yaml").write_text(yaml.safe_dump(old, sort_keys=False), "utf-8")
    frame = monthly_loans(project.path / "tmp.csv", rows=500).drop(columns="issue_month")
    frame.to_parquet(project.path / "events.parquet", index=False)
    result = add(project, "events.parquet", "--target", "Status", "--positive", "bad")
    assert json.loads(result.stdout)["snapshot"] == "data/raw/events.csv"
    data = project.params()["data"]
    assert data["path"] == "data/raw/events.csv" and "current_start" not in data
    assert data["split"] == {"by": "share", "current": 0.3}
    assert "replaces current_start" in (project.path / "params.yaml").read_text(encoding="utf-8")
    stored = pd.read_csv(project.path / "data/raw/events.csv")
    pd.testing.assert_frame_equal(stored, frame.reset_index(drop=True), check_dtype=False)
    project.run("dvc", "repro", "ingest")
    facts = project.json("metrics/ingest.json")
    assert facts["rows"] == 500 and facts["current"]["rows"] == 150
