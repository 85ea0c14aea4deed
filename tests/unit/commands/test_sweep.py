"""sweep, best, promote, sweep-clean: the dvc queue driven through a fake `runner.execute`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kaizen import KaizenError, cli, runtime
from kaizen.commands import runner
from kaizen.experiments import selection as experiments
from kaizen.io import dvc as dvc_api
from kaizen.io.dvc import expand
from kaizen.commands import sweep as command
from tests.unit.helpers import assert_one_line_error
from tests.unit.experiments.test_selection import AUC, LOG, QUEUE_STATUS, show_json

ROOT = Path(__file__).resolve().parents[3]


def test_repository_grids_are_valid():
    """sweeps.yaml: the default grid spans families and PCA; the logreg grid has 8 runs."""
    default = expand(command.load_grid("default", str(ROOT / "sweeps.yaml")))
    assert len(default) == 12
    assert {run[0] for run in default} == {
        "train.model=logreg",
        "train.model=hgb",
        "train.model=rf",
    }
    assert any("train.pca.n_components=5" in run for run in default)
    assert len(expand(command.load_grid("logreg", str(ROOT / "sweeps.yaml")))) == 8


def test_grid_file_errors(tmp_path):
    """Unknown grid, bad shapes, bad YAML and a missing file are one-line errors."""
    path = tmp_path / "sweeps.yaml"
    path.write_text("small:\n  - [train.model=logreg]\n", encoding="utf-8")
    with pytest.raises(KaizenError, match="no grid named 'big'"):
        command.load_grid("big", str(path))
    for text in ("[]", "small: x", "small:\n  - train.model=logreg"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(KaizenError, match="sweeps.yaml"):
            command.load_grid("small", str(path))
    path.write_text("small: [", encoding="utf-8")
    with pytest.raises(KaizenError, match="invalid YAML"):
        command.load_grid("small", str(path))
    with pytest.raises(KaizenError, match="not found"):
        command.load_grid("small", str(tmp_path / "none.yaml"))


def test_wait_ends_when_every_task_finished(monkeypatch):
    """The loop reports progress changes and returns once nothing is pending."""
    polls = iter(
        [
            ({"a": "queued", "b": "running"}, 1),
            ({"a": "success", "b": "running"}, 1),
            ({"a": "success", "b": "failed"}, 0),
        ]
    )
    monkeypatch.setattr(runner, "execute", lambda *args, **kwargs: None)
    monkeypatch.setattr(dvc_api, "queue_status", lambda: next(polls))
    lines: list[str] = []
    final = command.wait(["a", "b"], 2, poll=0, echo=lines.append)
    assert final == {"a": "success", "b": "failed"}
    assert lines[-1] == "1 done, 1 failed, 0 pending of 2"
    assert len(lines) == 3


def test_wait_fails_when_no_worker_runs(monkeypatch):
    """Pending tasks with no worker, even after a restart: an error, not a hang."""
    started = []
    monkeypatch.setattr(runner, "execute", lambda *args, **kwargs: started.append(args))
    monkeypatch.setattr(dvc_api, "queue_status", lambda: ({"a": "queued"}, 0))
    with pytest.raises(KaizenError, match="no worker"):
        command.wait(["a"], 1, poll=0, stall=2, echo=lambda line: None)
    assert len(started) == 2  # the first start, then one restart


def git(path: Path, *args: str) -> None:
    """Run git quietly in `path`."""
    subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)


def test_untracked_files_under_src_are_refused(tmp_path, monkeypatch, capsys):
    """New files under src/ block queueing (queued copies would not see them); ignored do not."""
    git(tmp_path, "init", "-q")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tracked.py").write_text("", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    (tmp_path / "src" / "ignored.pyc").write_text("", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert not command.untracked_files()
    (tmp_path / "src" / "new_feature.py").write_text("", encoding="utf-8")
    assert command.untracked_files() == ["src/new_feature.py"]
    assert cli.main(["sweep", "-S", "train.model=logreg"]) == 1
    error = capsys.readouterr().err
    assert "kaizen sweep: error: untracked files under src/ (src/new_feature.py)" in error
    assert "git add" in error and len(error.splitlines()) == 1


def test_run_reports_failures_in_one_line(tmp_path, monkeypatch):
    """A failing or missing command is a one-line error."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KaizenError, match="git rev-parse"):
        runner.git("rev-parse", "HEAD")
    with pytest.raises(KaizenError, match="command not found"):
        runner.execute("kaizen-no-such-command")


class FakeDvc:
    """Canned answers for `runner.execute`: records every command."""

    def __init__(self, status: str = QUEUE_STATUS):
        self.calls: list[tuple[str, ...]] = []
        self.status = status
        self.env: dict[tuple[str, ...], dict | None] = {}  # each command's added variables

    def __call__(self, *args: str, check: bool = True, env: dict | None = None):
        self.calls.append(args)
        self.env[args] = env
        out = ""
        if args[:3] == ("dvc", "exp", "run"):
            out = "Queued experiment 'mopey-hulk' for future execution.\n"
            out += "Queued experiment 'bad' for future execution.\n"
        elif args[:3] == ("dvc", "queue", "status"):
            out = self.status
        elif args[:3] == ("dvc", "exp", "show"):
            out = json.dumps(show_json())
        elif args[:3] == ("dvc", "queue", "logs"):
            out = LOG
        elif args[:2] == ("git", "ls-files"):
            out = ""
        elif args[:2] == ("git", "rev-parse"):
            out = "abc\n" if args[-1] == "refs/heads/taken" else ""
        return subprocess.CompletedProcess(args, 0, out, "")

    def ran(self, *args: str) -> bool:
        """Whether this exact command ran."""
        return args in self.calls

    def queue_status(self) -> tuple[dict[str, str], int]:
        """`io.dvc.queue_status` on the canned `dvc queue status` text (recorded as that call)."""
        self.calls.append(("dvc", "queue", "status"))
        return experiments.parse_queue_status(self.status), experiments.active_workers(self.status)

    def install(self, monkeypatch) -> FakeDvc:
        """Answer for `runner.execute` and the in-process queue status."""
        monkeypatch.setattr(runner, "execute", self)
        monkeypatch.setattr(dvc_api, "queue_status", self.queue_status)
        return self


@pytest.fixture(name="dvc")
def fixture_dvc(monkeypatch):
    """`runner.execute` replaced by FakeDvc."""
    return FakeDvc().install(monkeypatch)


def test_cli_sweep_flow_with_fake_dvc(dvc, capsys):
    """Queue with -S, wait, leaderboard, failures named with their log error, exit 1."""
    code = cli.main(["sweep", "-S", "train.logreg.C=choice(0.1,1)", "-j", "2", "--metric", AUC])
    out, err = capsys.readouterr()
    assert code == 1
    assert ("dvc", "exp", "run", "--queue", "-S", "train.logreg.C=choice(0.1,1)") in dvc.calls
    assert dvc.ran("dvc", "queue", "start", "-j", "2")
    assert dvc.env[("dvc", "queue", "start", "-j", "2")] == runtime.worker_threads(2)
    assert "kaizen sweep: queueing 2 experiment(s)\n" in err
    assert "kaizen sweep: 1 done, 1 failed, 0 pending of 2\n" in err
    assert "kaizen sweep: failed: bad: kaizen train: error: params.yaml: train.model" in err
    assert "1 of 2 experiments failed: bad" in err
    assert json.loads(out.splitlines()[-1]) == {
        "queued": 2,
        "failed": 1,
        "metric": AUC,
        "best": "top-auc",
    }
    assert out.splitlines()[2].startswith("| base | main |")
    assert "best: top-auc" in out


def test_cli_sweep_guard_without_winner_still_reports(monkeypatch, capsys):
    """No experiment meets the guard: the sweep says so and succeeds when nothing failed."""
    FakeDvc(status=QUEUE_STATUS.replace("Failed", "Success")).install(monkeypatch)
    code = cli.main(["sweep", "-S", "train.model=logreg", "--guard", "cv.roc_auc>=0.99"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "best: none (no experiment meets the guard cv.roc_auc>=0.99" in out
    assert json.loads(out.splitlines()[-1])["best"] is None


def test_cli_best_prints_only_the_name(dvc, capsys):
    """stdout is the name (for scripts); direction, guard and rule apply; the winner's held-out
    figures are printed once, on stderr."""
    assert cli.main(["best", "--metric", "cv.cost"]) == 0
    assert capsys.readouterr().out == "low-auc\n"
    assert cli.main(["best", "--guard", "cv.cost<=baseline"]) == 0
    out, err = capsys.readouterr()
    assert out == "mid-auc\n"
    assert err == (
        "kaizen best: mid-auc: cv.roc_auc 0.8500 ± 0.0300 (max, rule best); held out, read once "
        "for the winner: test.roc_auc 0.8400, current.roc_auc 0.8300, test.cost 0.4500, "
        "current.cost 0.4500\n"
    )
    assert cli.main(["best", "--rule", "one-se"]) == 0
    assert capsys.readouterr().out == "top-auc\n"
    assert not any(call[:3] == ("dvc", "exp", "branch") for call in dvc.calls)


def test_cli_best_refuses_held_out_metrics(dvc, capsys):  # pylint: disable=unused-argument
    """Selecting or guarding on test.* / current.* needs --allow-holdout."""
    assert cli.main(["best", "--metric", "current.roc_auc"]) == 1
    err = capsys.readouterr().err
    assert_one_line_error(err, "kaizen best: error: --metric metrics/evaluate/metrics.json:")
    assert "current, out-of-time part" in err and "--allow-holdout" in err
    assert cli.main(["best", "--guard", "test.cost<=baseline"]) == 1
    assert_one_line_error(capsys.readouterr().err, "--guard test.cost: selecting on the test")
    assert cli.main(["best", "--metric", "current.roc_auc", "--allow-holdout"]) == 0
    assert capsys.readouterr().out == "top-auc\n"


def test_cli_promote_branches_the_best(dvc, capsys):
    """`dvc exp branch NAME exp/NAME`; next steps on stderr; an existing branch is refused."""
    assert cli.main(["promote"]) == 0
    out, err = capsys.readouterr()
    assert dvc.ran("dvc", "exp", "branch", "top-auc", "exp/top-auc")
    assert json.loads(out)["branch"] == "exp/top-auc"
    assert "git push -u origin exp/top-auc" in err
    assert cli.main(["promote", "--branch", "taken"]) == 1
    assert "branch taken already exists" in capsys.readouterr().err


def test_cli_sweep_clean(dvc, monkeypatch, capsys):
    """Removes experiments and finished tasks; refuses while tasks are pending."""
    assert cli.main(["sweep-clean"]) == 1
    assert "1 task(s) still queued or running" in capsys.readouterr().err
    monkeypatch.setattr(dvc, "status", QUEUE_STATUS.replace("Running", "Success"))
    assert cli.main(["sweep-clean"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": 4}
    assert dvc.ran("dvc", "exp", "remove", "--all-commits")
    assert dvc.ran("dvc", "queue", "remove", "--success", "--failed")


def test_stop_waits_until_no_worker_is_left(monkeypatch):
    """`dvc queue stop`, then poll `dvc queue status` until every worker is gone."""
    answers = iter(["Worker status: 1 active, 1 idle", "Worker status: 0 active, 1 idle", ""])
    calls = []

    def fake(*args, **_options):
        calls.append(args)
        out = next(answers) if args[1:3] == ("queue", "status") else ""
        return subprocess.CompletedProcess(args, 0, out, "")

    monkeypatch.setattr(runner, "execute", fake)
    command.stop(poll=0)
    assert calls[0] == ("dvc", "queue", "stop")
    assert calls.count(("dvc", "queue", "status")) == 3


def test_stop_gives_up_with_a_one_line_error(monkeypatch):
    """A worker that never leaves: an error naming the wait, not a hang."""
    status = subprocess.CompletedProcess([], 0, "Worker status: 1 active, 0 idle", "")
    monkeypatch.setattr(runner, "execute", lambda *args, **_options: status)
    with pytest.raises(KaizenError, match="workers still running after 0 s"):
        command.stop(timeout=0, poll=0)


def test_ctrl_c_kills_the_sweeps_tasks_and_stops_the_workers(monkeypatch, capsys):
    """Ctrl-C while waiting: running tasks killed, queued ones removed, no worker left, one line."""
    calls = []
    polls = iter(
        [
            ({"a": "running", "b": "queued", "c": "success"}, 1),
            ({"a": "failed", "b": "queued", "c": "success"}, 0),
        ]
    )

    def fake(*args, **_options):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, "Worker status: 0 active, 0 idle", "")

    def interrupted(names, jobs):  # pylint: disable=unused-argument
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "execute", fake)
    monkeypatch.setattr(command, "untracked_files", lambda: [])
    monkeypatch.setattr(command, "queue", lambda calls: ["a", "b", "c", "d"])
    monkeypatch.setattr(command, "wait", interrupted)
    monkeypatch.setattr(command, "statuses", lambda: next(polls))
    assert cli.main(["sweep", "-S", "train.logreg.C=1"]) == 1
    assert ("dvc", "queue", "kill", "a") in calls
    assert ("dvc", "queue", "remove", "b", "d") in calls  # "d": queued, not listed yet
    assert calls.index(("dvc", "queue", "stop")) > calls.index(("dvc", "queue", "kill", "a"))
    # removal once no worker holds the queue (it did not take while one ran)
    assert calls.index(("dvc", "queue", "remove", "b", "d")) > calls.index(("dvc", "queue", "stop"))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "kaizen sweep: error: interrupted: killed 1 running and removed 2 queued experiment(s) "
        "of 4; no queue worker is left"
    )
