"""The whole production loop on a slice, with real processes: `kaizen serve` on 127.0.0.1 ->
`kaizen simulate-traffic` (later applications, outcomes fed back) -> `kaizen monitor` (Expenses
drift) -> `kaizen events export --labelled-only --training` -> `dvc exp run -S data.path=…` on
that snapshot -> `kaizen report`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ROOT, environment, free_port

pytestmark = pytest.mark.integration
TOKEN = "loop-token-of-at-least-32-bytes!"  # a feedback token is at least 32 bytes
LATER_ROWS = (2479, 3079)  # 600 applications from the embedded data's current part (1-based)


def later_applications(path: Path) -> None:
    """Header plus the raw rows LATER_ROWS: incomes and expenses of a later period."""
    lines = (ROOT / "data" / "raw" / "credit_data.csv").read_text(encoding="utf-8").splitlines()
    start, end = LATER_ROWS
    path.write_text("\n".join([lines[0], *lines[start:end]]) + "\n", encoding="utf-8")


def wait_healthy(port: int, server: subprocess.Popen) -> None:
    """Poll /health until the server answers (or fail with its output)."""
    for _ in range(120):
        if server.poll() is not None:
            pytest.fail(f"kaizen serve exited: {server.stdout.read() if server.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail("kaizen serve did not become healthy in 60 s")


def test_serve_simulate_monitor_export_retrain_report(reproduced, tmp_path):
    """Every step of the README's loop succeeds and hands the next one what it needs."""
    project = reproduced
    db = str(tmp_path / "events.db")
    env = {**environment(), "KAIZEN_DB": db, "KAIZEN_FEEDBACK_TOKEN": TOKEN}
    params = project.params()
    params["monitor"].update(
        {"min_events": 100, "min_labelled": 100, "min_defaults": 10, "outcome_window_days": 0}
    )
    (tmp_path / "monitor.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")

    def kaizen(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["kaizen", *args],
            cwd=project.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(f"kaizen {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    kaizen("events", "init")
    port = free_port()
    server = subprocess.Popen(  # pylint: disable=consider-using-with
        ["kaizen", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=project.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_healthy(port, server)
        later = tmp_path / "later.csv"
        later_applications(later)
        sent = json.loads(
            kaizen(
                "simulate-traffic", "--input", str(later), "--url", f"http://127.0.0.1:{port}",
                "--feedback-share", "1",
            ).stdout
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    accepted = sent["accepted"]  # --feedback accepted (the default): refused ones get none
    assert sent["sent"] == 600 and sent["feedback"] == accepted and 0 < accepted < 600

    result = kaizen(
        "--params", str(tmp_path / "monitor.yaml"), "monitor", "--window", "1d",
        "--output", str(tmp_path / "report"), check=False,
    )  # fmt: skip
    assert result.returncode in (0, 2), result.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    flagged = {s["name"] for s in report["signals"] if s["level"] in ("warning", "critical")}
    assert "feature:Expenses" in flagged
    assert report["realised"]["rows"] == accepted and report["window"]["events"] == 600

    retrain_on_the_export(project, kaizen, accepted)
    project.run(
        "env", "PYTHONPATH=src", "python", "-m", "kaizen", "report", "--base", "main",
        "--output", "report.md",
    )  # fmt: skip
    text = (project.path / "report.md").read_text(encoding="utf-8")
    assert "Raw data" in text and "Params changed" in text
    assert os.path.getsize(project.path / "report.md") > 500


def retrain_on_the_export(project, kaizen, accepted: int) -> None:
    """The documented retraining loop (docs/production.md): export the labelled events with
    their time, `kaizen data add` with an explicit split, `dvc repro`."""
    snapshot = project.path / "production.csv"
    kaizen(
        "events", "export", "--training", "--negative", "good", "--output", str(snapshot),
    )  # fmt: skip
    with snapshot.open(encoding="utf-8", newline="") as handle:
        exported = list(csv.reader(handle))
    assert len(exported) == accepted + 1 and exported[0][0] == "created_at"
    assert exported[0][-1] == "Status"
    kaizen(
        "data", "add", str(snapshot), "--target", "Status", "--positive", "bad",
        "--split-share", "0.3", "--drop", "created_at",
    )  # fmt: skip
    project.run("dvc", "repro")
    schema = project.json("data/ingest/schema.json")
    assert project.json("metrics/ingest.json")["rows"] == accepted
    assert "created_at" not in schema["numeric"] + schema["categorical"]
