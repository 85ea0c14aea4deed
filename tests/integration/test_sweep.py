"""`kaizen sweep`/`best`/`promote`/`sweep-clean` with a real dvc queue in a temporary repository."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kaizen.experiments import selection as experiments
from kaizen.commands import sweep
from tests.integration.conftest import environment

pytestmark = pytest.mark.integration

GRIDS = """\
test:
  - ["train.logreg.C=choice(0.1,1)", "train.scaling=choice(standard,robust)"]
  - [train.model=nope]
"""
KAIZEN = str(Path(sys.executable).parent / "kaizen")
HANG = 900  # seconds: far beyond a normal run (about a minute); a hung queue fails, not blocks
# Appended to the queued snapshot's train stage only: adds a marker to metrics/train.json.
MARKER = """

_snapshot_run = run


def run(params, **paths):
    \"\"\"Marker wrapper (test only).\"\"\"
    from kaizen.io import files as _files

    result = _snapshot_run(params, **paths)
    _files.write_json({**_files.read_json(paths["metrics"]), "marker": 1}, paths["metrics"])
    return result
"""


def kaizen(project, *args: str) -> subprocess.CompletedProcess:
    """Run the kaizen CLI in the project."""
    return subprocess.run(
        [KAIZEN, *args],
        cwd=project.path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )


def sweep_from_edited_code(project) -> tuple[str, str]:
    """`kaizen sweep` queued from a workspace whose train stage writes a marker; the edit is
    reverted as soon as the experiments are queued, before they run. Returns (stdout, stderr)."""
    train = project.path / "src" / "kaizen" / "stages" / "train.py"
    original = train.read_text(encoding="utf-8")
    train.write_text(original + MARKER, encoding="utf-8")
    args = ("sweep", "--grid", "test", "--jobs", "2", "--metric", "cv.roc_auc")
    with subprocess.Popen(
        [KAIZEN, *args],
        cwd=project.path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        head = []
        for line in process.stderr:  # the first progress line comes after the queueing
            head.append(line)
            if line.startswith("kaizen sweep: ") and " done, " in line:
                break
        train.write_text(original, encoding="utf-8")
        assert not project.run("git", "status", "--porcelain").stdout
        try:
            out, err = process.communicate(timeout=HANG)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"kaizen sweep hung:\n{''.join(head)}")
    assert process.returncode == 1, "".join(head) + err
    return out, "".join(head) + err


def check_sweep_output(out: str, err: str) -> None:
    """Progress, the failed experiment with its error, a leaderboard sorted by the metric."""
    assert "sweep: queueing 5 experiment(s)" in err
    assert "sweep: 4 done, 1 failed, 0 pending of 5" in err
    failed = [line for line in err.splitlines() if line.startswith("kaizen sweep: failed: ")]
    assert len(failed) == 1 and "kaizen train: error: params.yaml: train.model" in failed[0]
    assert "1 of 5 experiments failed" in err
    assert json.loads(out.splitlines()[-1])["failed"] == 1
    table = [line.split("|") for line in out.splitlines() if line.startswith("| ")]
    assert table[0][3].strip() == "cv.roc_auc (max)"
    ranked = [cells[3].split(" ± ") for cells in table if cells[1].strip().isdigit()]
    means = [float(mean) for mean, _ in ranked]
    assert len(means) == 4 and means == sorted(means, reverse=True)
    assert all(float(se) > 0 for _, se in ranked)  # mean ± SE over the folds
    assert table[-1][1].strip() == "failed"


def check_experiments(project) -> list[experiments.Experiment]:
    """Four distinct experiments and one failure; each ran its queued snapshot's code."""
    _, rows = experiments.parse_show(json.loads(project.run("dvc", "exp", "show", "--json").stdout))
    done = [row for row in rows if row.state == "success"]
    assert len(done) == 4 and len([row for row in rows if row.state == "failed"]) == 1
    pairs = {(row.params["train.logreg.C"], row.params["train.scaling"]) for row in done}
    assert pairs == {(0.1, "standard"), (0.1, "robust"), (1, "standard"), (1, "robust")}
    assert len({json.dumps(row.metrics, sort_keys=True) for row in done}) == 4
    # The snapshot's train stage wrote the marker; the workspace (and main) code has none.
    assert all(row.metrics.get("metrics/train.json:marker") == 1 for row in done)
    assert "marker" not in project.json("metrics/train.json")
    return done


def test_sweep_best_promote_clean(reproduced, monkeypatch):
    """One queue run shared by every assertion (dvc workers are slow to start)."""
    project = reproduced
    monkeypatch.chdir(project.path)
    try:
        run_sweep_best_promote_clean(project)
    finally:
        sweep.stop()  # no worker may still write under .dvc/tmp when the folder is removed


def run_sweep_best_promote_clean(project) -> None:
    """The sweep, best, promote and sweep-clean flow on one queue run."""
    (project.path / "sweeps.yaml").write_text(GRIDS, encoding="utf-8")
    project.commit("baseline metrics, test grid")

    extra = project.path / "src" / "kaizen" / "extra.py"
    extra.write_text("", encoding="utf-8")
    refused = kaizen(project, "sweep", "--grid", "test")
    assert refused.returncode == 1
    assert "untracked files under src/ (src/kaizen/extra.py)" in refused.stderr
    assert "git add" in refused.stderr and "Queued" not in refused.stdout
    extra.unlink()

    out, err = sweep_from_edited_code(project)
    check_sweep_output(out, err)
    done = check_experiments(project)

    key = "metrics/evaluate/metrics.json:cv.roc_auc"
    top = max(done, key=lambda row: row.metrics[key])
    assert f"best: {top.name}: cv.roc_auc " in out
    assert "held out, read once for the winner: test.roc_auc" in out
    best = kaizen(project, "best", "--metric", "cv.roc_auc")
    assert best.stdout.strip() == top.name, best.stderr
    brier = "metrics/evaluate/metrics.json:cv.brier"
    low = min(done, key=lambda row: row.metrics[brier])
    assert kaizen(project, "best", "--metric", "cv.brier").stdout.strip() == low.name
    assert low.metrics[brier] < max(row.metrics[brier] for row in done)

    # The out-of-time part is refused for selection (winner's curse), unless explicitly allowed.
    refused = kaizen(project, "best", "--metric", "current.roc_auc")
    assert refused.returncode == 1 and not refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith(
        "kaizen best: error: --metric metrics/evaluate/metrics.json:current.roc_auc: selecting "
        "on the current, out-of-time part makes the winner's current figure optimistic"
    )
    assert "--allow-holdout" in refused.stderr
    allowed = kaizen(project, "best", "--metric", "current.roc_auc", "--allow-holdout")
    current = "metrics/evaluate/metrics.json:current.roc_auc"
    assert allowed.stdout.strip() == max(done, key=lambda row: row.metrics[current]).name

    bin_dir = str(Path(sys.executable).parent)
    project.run("make", "promote", "STAMP=", f"BIN={bin_dir}", "METRIC=cv.roc_auc", "GUARD=")
    branch = project.run("git", "rev-parse", f"refs/heads/exp/{top.name}").stdout.strip()
    assert branch == top.rev

    cleaned = kaizen(project, "sweep-clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert json.loads(cleaned.stdout) == {"removed": 5}
    assert not project.run("dvc", "exp", "list").stdout.strip()
    assert f"exp/{top.name}" in project.run("git", "branch").stdout

    interrupt_a_sweep(project)


def interrupt_a_sweep(project) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) once the workers run: one
    line, exit 1, and neither a queue worker nor a task of that sweep is left behind."""
    # pylint: disable-next=subprocess-popen-preexec-fn  # it only resets one signal, no lock
    with subprocess.Popen(
        [KAIZEN, "sweep", "--grid", "test", "--jobs", "1"],
        cwd=project.path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell's background job ignores SIGINT, and a child inherits that: restore the default
        # so that the process reacts as in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as process:
        for line in process.stderr:
            if " done, " in line:
                break
        os.killpg(process.pid, signal.SIGINT)
        try:
            _, err = process.communicate(timeout=HANG)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("kaizen sweep did not stop on SIGINT")
    assert process.returncode == 1, err
    assert err.splitlines()[-1].startswith("kaizen sweep: error: interrupted: killed "), err
    assert err.splitlines()[-1].endswith("of 5; no queue worker is left"), err
    status = project.run("dvc", "queue", "status").stdout
    assert experiments.worker_count(status) == 0, status
    assert not {"queued", "running"} & set(experiments.parse_queue_status(status).values()), status
