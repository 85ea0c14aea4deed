"""Sweeps: grids, `dvc exp show` parsing, leaderboard, best selection, queue progress, safety."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kaizen import KaizenError, cli, experiments
from kaizen.commands import runner
from kaizen.commands import sweep as command
from tests.unit.helpers import assert_one_line_error

ROOT = Path(__file__).resolve().parents[3]
AUC = "metrics/evaluate/metrics.json:cv.roc_auc"
COST = "metrics/evaluate/metrics.json:cv.cost"
SE = 0.03  # standard error of every cv.roc_auc below


def revision(rev: str, auc: float, cost: float, c: float, error: bool = False) -> dict:
    """One `revs` entry as `dvc exp show --json` writes it: cv.* means with their SE, and
    held-out test/current figures (test = cv - 0.01, current = cv - 0.02)."""
    held_out = {"roc_auc": round(auc - 0.01, 4), "cost": cost}
    return {
        "rev": rev,
        "name": None,
        "error": {"msg": "Experiment run failed", "type": ""} if error else None,
        "data": {
            "rev": rev,
            "params": {"params.yaml": {"data": {"train": {"model": "logreg", "logreg": {"C": c}}}}},
            "metrics": {
                "metrics/evaluate/metrics.json": {
                    "data": {
                        "cv": {"roc_auc": auc, "roc_auc_se": SE, "cost": cost},
                        "test": held_out,
                        "current": {**held_out, "roc_auc": round(auc - 0.02, 4)},
                        "rows": 10,
                    }
                },
                "metrics/ingest.json": {"data": {"rows": 10}},
            },
        },
    }


def show_json() -> list[dict]:
    """A baseline with three successful experiments and a failed one."""

    def entry(name, rev, state="success"):
        return {"name": name, "executor": {"state": state}, "revs": [rev]}

    head = revision("a" * 40, 0.80, 0.50, 1.0)
    head.update(
        name="main",
        experiments=[
            entry("low-auc", revision("b" * 40, 0.70, 0.40, 0.01)),
            entry("top-auc", revision("c" * 40, 0.90, 0.55, 10.0)),
            entry("mid-auc", revision("d" * 40, 0.85, 0.45, 0.1)),
            entry("broken", revision("e" * 40, 0.80, 0.50, 1.0, error=True), "failed"),
        ],
    )
    return [{"rev": "workspace", "name": None, "data": {}, "experiments": None}, head]


@pytest.fixture(name="shown")
def fixture_shown():
    """Parsed baseline and command."""
    return experiments.parse_show(show_json())


def test_parse_show_flattens_params_metrics_and_states(shown):
    """Baseline is the commit; failed experiments keep their state and error."""
    baseline, rows = shown
    assert baseline.name == "main" and baseline.state == "baseline"
    assert [r.name for r in rows] == ["low-auc", "top-auc", "mid-auc", "broken"]
    assert rows[1].params["train.logreg.C"] == 10.0
    assert rows[1].metrics[AUC] == 0.90
    assert rows[3].state == "failed" and rows[3].error == "Experiment run failed"


def test_parse_show_needs_a_commit():
    """A repository without commits is a one-line error."""
    with pytest.raises(KaizenError, match="one commit"):
        experiments.parse_show([{"rev": "workspace"}])


def test_rank_and_best_respect_direction(shown):
    """Maximised metric: highest first; minimised: lowest first; failed never ranked."""
    baseline, rows = shown
    assert [r.name for r in experiments.rank(rows, AUC, "max")] == ["top-auc", "mid-auc", "low-auc"]
    assert [r.name for r in experiments.rank(rows, COST, "min")] == [
        "low-auc",
        "mid-auc",
        "top-auc",
    ]
    assert experiments.best(rows, baseline, AUC, "max").name == "top-auc"
    assert experiments.best(rows, baseline, COST, "min").name == "low-auc"


def test_guard_skips_winners_worse_than_baseline(shown):
    """top-auc costs more than the baseline (0.55 > 0.50): the guard picks mid-auc."""
    baseline, rows = shown
    guard = experiments.parse_guard("cv.cost<=baseline")
    assert guard == experiments.Guard("cv.cost", "<=", None)
    assert experiments.best(rows, baseline, AUC, "max", (guard,)).name == "mid-auc"
    strict = (guard, experiments.parse_guard("cv.roc_auc >= 0.86"))
    with pytest.raises(KaizenError, match="no experiment meets the guard"):
        experiments.best(rows, baseline, AUC, "max", strict)


@pytest.mark.parametrize("text", ["test.cost", "test.cost<=cheap", "test.cost=0.4"])
def test_parse_guard_rejects_bad_text(text):
    """A malformed guard names itself."""
    with pytest.raises(KaizenError, match="--guard"):
        experiments.parse_guard(text)


def test_best_needs_a_successful_experiment(shown):
    """Only failures: a clear error."""
    baseline, rows = shown
    with pytest.raises(KaizenError, match="no successful experiment"):
        experiments.best(rows[3:], baseline, AUC, "max")


def test_leaderboard_orders_rows_and_shows_only_changed_params(shown):
    """Baseline first, then best to worst, failed last; unchanged params (model) hidden."""
    baseline, rows = shown
    table = experiments.leaderboard(rows, baseline, AUC, "max").splitlines()
    assert table[0] == "| rank | experiment | cv.roc_auc (max) | train.logreg.C |"
    assert table[3] == "| 1 | top-auc | 0.9000 ± 0.0300 | 10 |"
    assert [line.split("|")[2].strip() for line in table[2:]] == [
        "main",
        "top-auc",
        "mid-auc",
        "low-auc",
        "broken",
    ]
    assert table[-1] == "| failed | broken | - | 1 |"


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("test.roc_auc", "max"),
        ("m.json:current.roc_auc_low", "max"),
        ("test.ks", "max"),
        ("test.brier", "min"),
        ("cost_optimal_cost", "min"),
        ("test.log_loss", "min"),
    ],
)
def test_direction_from_metric_name(metric, expected):
    """Known metrics have a direction."""
    assert experiments.objective(metric) == expected


def test_direction_unknown_or_overridden():
    """An unknown metric needs --direction; an override wins."""
    with pytest.raises(KaizenError, match="--direction"):
        experiments.objective("test.rows")
    assert experiments.objective("test.roc_auc", "min") == "min"
    with pytest.raises(KaizenError, match="max or min"):
        experiments.objective("test.roc_auc", "up")


def test_resolve_metric(shown):
    """Full names pass; bare keys resolve when unique; ambiguity and absence are errors."""
    available = set(shown[0].metrics)
    assert experiments.resolve_metric(AUC, available) == AUC
    assert experiments.resolve_metric("cv.roc_auc", available) == AUC
    with pytest.raises(KaizenError, match="ambiguous"):
        experiments.resolve_metric("rows", available)
    with pytest.raises(KaizenError, match="no such metric"):
        experiments.resolve_metric("test.f1", available)


def test_held_out_parts_are_refused_unless_allowed():
    """test.* / current.* (with or without the file) are refused with one line; cv.* passes."""
    for metric in ("test.roc_auc", "metrics/evaluate/metrics.json:current.cost"):
        with pytest.raises(KaizenError) as caught:
            experiments.check_holdout(metric, allow=False)
        message = str(caught.value)
        assert message.startswith(f"--metric {metric}: selecting on the ")
        assert "winner's curse" in message and "--allow-holdout" in message
        assert "\n" not in message
        experiments.check_holdout(metric, allow=True)
    experiments.check_holdout(AUC, allow=False)
    experiments.check_holdout("threshold", allow=False)


def test_one_se_rule_prefers_the_simplest_within_one_se(shown):
    """top-auc 0.90 (SE 0.03): mid-auc 0.85 is out, only top-auc is within; with a wider SE,
    mid-auc (0.85) is within and its smaller C (stronger regularisation) wins."""
    baseline, rows = shown
    assert experiments.best(rows, baseline, AUC, "max", rule="one-se").name == "top-auc"
    wide = [
        experiments.Experiment(
            r.name, r.rev, r.state, r.params, {**r.metrics, f"{AUC}_se": 0.06}, r.error
        )
        for r in rows
    ]
    assert experiments.best(wide, baseline, AUC, "max", rule="one-se").name == "mid-auc"
    with pytest.raises(KaizenError, match="--rule one-se: .*test.roc_auc has no standard error"):
        experiments.best(rows, baseline, AUC.replace("cv.", "test."), "max", rule="one-se")


def test_complexity_order():
    """Family first (logreg < hgb < rf), then fewer PCA components, then calibration, then
    stronger regularisation."""
    logreg = {"train.model": "logreg", "train.logreg.C": 1.0, "train.pca.n_components": None}
    order = [
        {**logreg, "train.logreg.C": 0.01},
        logreg,
        {**logreg, "train.calibration": "sigmoid"},
        {"train.model": "hgb", "train.pca.n_components": 2, "train.hgb.max_iter": 900},
        {"train.model": "hgb", "train.hgb.max_iter": 100, "train.hgb.max_leaf_nodes": 15},
        {"train.model": "hgb", "train.hgb.max_iter": 300, "train.hgb.max_leaf_nodes": 15},
        {"train.model": "rf", "train.rf.max_depth": 5},
        {"train.model": "rf", "train.rf.max_depth": None},
    ]
    keys = [experiments.complexity(params) for params in order]
    assert keys == sorted(keys)
    assert experiments.complexity({**logreg, "train.pca.n_components": 3}) < keys[0]


def test_held_out_figures_of_the_winner(shown):
    """The winner's test and current figures, read from the selection metric's file."""
    _, rows = shown
    assert experiments.held_out(rows[1], AUC) == (
        "test.roc_auc 0.8900, current.roc_auc 0.8800, test.cost 0.5500, current.cost 0.5500"
    )
    assert experiments.held_out(rows[1], "other.json:x") == "none"


def test_expand_is_dvc_cartesian_product_per_call():
    """Each call is a product; calls add up; float range() includes its end."""
    runs = experiments.expand(
        [
            ["train.model=logreg", "train.logreg.C=choice(0.1,1)", "train.scaling=standard,robust"],
            ["train.model=hgb"],
        ]
    )
    assert len(runs) == 5
    assert ["train.model=logreg", "train.logreg.C=1", "train.scaling=robust"] in runs
    floats = experiments.expand([["train.logreg.C=range(0.1,1.0,0.3)"]])
    assert [run[0] for run in floats][-1] == "train.logreg.C=1.0"
    assert len(experiments.expand([["train.seed=range(1,4)"]])) == 3


@pytest.mark.parametrize("bad", ["train.model", "train.logreg.C=choice(0.1,"])
def test_expand_rejects_bad_syntax(bad):
    """A malformed override fails before anything is queued."""
    with pytest.raises(KaizenError, match="-S"):
        experiments.expand([[bad]])


def test_repository_grids_are_valid():
    """sweeps.yaml: the default grid spans families and PCA; the logreg grid has 8 runs."""
    default = experiments.expand(command.load_grid("default", str(ROOT / "sweeps.yaml")))
    assert len(default) == 12
    assert {run[0] for run in default} == {
        "train.model=logreg",
        "train.model=hgb",
        "train.model=rf",
    }
    assert any("train.pca.n_components=5" in run for run in default)
    assert len(experiments.expand(command.load_grid("logreg", str(ROOT / "sweeps.yaml")))) == 8


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


QUEUE_STATUS = """\
Task     Name        Created    Status
f3989fc  mopey-hulk  09:33 AM   Success
d821e5a  fetid-ulna  09:33 AM   Running
ee3f87b  bad         09:33 AM   Failed
ae1834a  old-run     09:01 AM   Success

Worker status: 2 active, 0 idle
"""


def test_queue_status_and_progress():
    """Statuses by name; progress counts only this sweep's names."""
    states = experiments.parse_queue_status(QUEUE_STATUS)
    assert states["fetid-ulna"] == "running" and states["bad"] == "failed"
    assert experiments.active_workers(QUEUE_STATUS) == 2
    assert experiments.active_workers("") == 0
    names = ["mopey-hulk", "fetid-ulna", "bad", "not-listed-yet"]
    assert experiments.progress(states, names) == {"done": 1, "failed": 1, "pending": 2}


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
    monkeypatch.setattr(command, "statuses", lambda: next(polls))
    lines: list[str] = []
    final = command.wait(["a", "b"], 2, poll=0, echo=lines.append)
    assert final == {"a": "success", "b": "failed"}
    assert lines[-1] == "sweep: 1 done, 1 failed, 0 pending of 2"
    assert len(lines) == 3


def test_wait_fails_when_no_worker_runs(monkeypatch):
    """Pending tasks with no worker, even after a restart: an error, not a hang."""
    started = []
    monkeypatch.setattr(runner, "execute", lambda *args, **kwargs: started.append(args))
    monkeypatch.setattr(command, "statuses", lambda: ({"a": "queued"}, 0))
    with pytest.raises(KaizenError, match="no worker"):
        command.wait(["a"], 1, poll=0, stall=2, echo=lambda line: None)
    assert len(started) == 2  # the first start, then one restart


LOG = """\
Reproducing experiment 'bad'
Stage 'ingest' didn't change, skipping
Stage 'prepare' is cached - skipping run, checking out outputs
Running stage 'train':
> PYTHONPATH=src python -m kaizen train
kaizen train: error: params.yaml: train.model: Input should be 'logreg', 'rf' or 'hgb'
ERROR: failed to reproduce 'train': failed to run: ..., exited with 1
"""


def test_stage_runs_and_log_error():
    """Which stages ran, and the kaizen error line of a failed run."""
    assert experiments.stage_runs(LOG) == {
        "ingest": "skipped",
        "prepare": "restored",
        "train": "ran",
    }
    assert experiments.log_error(LOG).startswith("kaizen train: error: params.yaml: train.model")
    assert experiments.log_error("x\nERROR: boom\n") == "ERROR: boom"
    assert experiments.log_error("") == "no log"


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


def test_untracked_message_shortens_long_lists():
    """Many files: three named, the rest counted."""
    with pytest.raises(KaizenError, match=r"a, b, c and 2 more"):
        experiments.untracked_error(["a", "b", "c", "d", "e"])
    experiments.untracked_error([])


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

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        self.calls.append(args)
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


@pytest.fixture(name="dvc")
def fixture_dvc(monkeypatch):
    """`runner.execute` replaced by FakeDvc."""
    fake = FakeDvc()
    monkeypatch.setattr(runner, "execute", fake)
    return fake


def test_cli_sweep_flow_with_fake_dvc(dvc, capsys):
    """Queue with -S, wait, leaderboard, failures named with their log error, exit 1."""
    code = cli.main(["sweep", "-S", "train.logreg.C=choice(0.1,1)", "-j", "2", "--metric", AUC])
    out, err = capsys.readouterr()
    assert code == 1
    assert ("dvc", "exp", "run", "--queue", "-S", "train.logreg.C=choice(0.1,1)") in dvc.calls
    assert dvc.ran("dvc", "queue", "start", "-j", "2")
    assert "sweep: queueing 2 experiment(s)" in err
    assert "sweep: 1 done, 1 failed, 0 pending of 2" in err
    assert "failed: bad: kaizen train: error: params.yaml: train.model" in err
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
    fake = FakeDvc(status=QUEUE_STATUS.replace("Failed", "Success"))
    monkeypatch.setattr(runner, "execute", fake)
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
        "best: mid-auc: cv.roc_auc 0.8500 ± 0.0300 (max, rule best); held out, read once for the "
        "winner: test.roc_auc 0.8400, current.roc_auc 0.8300, test.cost 0.4500, "
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
