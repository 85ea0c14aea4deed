"""Sweeps, pure parts: `dvc exp show` parsing, ranking, guards, leaderboard, grids, queue status."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaizen import KaizenError
from kaizen.experiments import selection as experiments

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
        ("cv.roc_auc", "max"),
        ("cv.bayes_cost", "min"),
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
    """Family first (scorecard < logreg < hgb < rf), then fewer PCA components, then
    calibration, then stronger regularisation."""
    logreg = {"train.model": "logreg", "train.logreg.C": 1.0, "train.pca.n_components": None}
    scorecard = {"train.model": "scorecard", "train.scorecard.max_bins": 10}
    order = [
        {**scorecard, "train.scorecard.max_bins": 5},
        {**scorecard, "train.scorecard.C": 0.1},
        scorecard,
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
    assert experiments.complexity({**logreg, "train.pca.n_components": 3}) < keys[3]


def test_one_se_rule_picks_a_scorecard_within_one_se(shown):
    """A scorecard experiment within one SE of the best wins the one-SE rule: the simplest."""
    baseline, rows = shown
    top = experiments.best(rows, baseline, AUC, "max")
    value, se = top.metrics[AUC], top.metrics[f"{AUC}_se"]
    card = experiments.Experiment(
        "card",
        "c0",
        "success",
        {"train.model": "scorecard"},
        {AUC: value - se / 2, f"{AUC}_se": se},
    )
    assert experiments.best([*rows, card], baseline, AUC, "max", rule="one-se").name == "card"
    assert experiments.best([*rows, card], baseline, AUC, "max").name == top.name
    far = experiments.Experiment("far", "c1", "success", card.params, {AUC: value - 2 * se})
    assert experiments.best([*rows, far], baseline, AUC, "max", rule="one-se").name != "far"


def test_held_out_figures_of_the_winner(shown):
    """The winner's test and current figures, read from the selection metric's file."""
    _, rows = shown
    assert experiments.held_out(rows[1], AUC) == (
        "test.roc_auc 0.8900, current.roc_auc 0.8800, test.cost 0.5500, current.cost 0.5500"
    )
    assert experiments.held_out(rows[1], "other.json:x") == "none"


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


def test_untracked_message_shortens_long_lists():
    """Many files: three named, the rest counted."""
    with pytest.raises(KaizenError, match=r"a, b, c and 2 more"):
        experiments.untracked_error(["a", "b", "c", "d", "e"])
    experiments.untracked_error([])


def test_worker_count_includes_idle_workers():
    """An idle worker still writes under .dvc/tmp: cleanup waits for active + idle == 0."""
    assert experiments.worker_count("Worker status: 1 active, 2 idle") == 3
    assert experiments.worker_count("Worker status: 0 active, 0 idle") == 0
    assert experiments.worker_count(QUEUE_STATUS) == 2
    assert experiments.worker_count("") == 0


def test_a_bare_metric_in_two_files_is_the_models():
    """The scorecard benchmark also writes cv.roc_auc: the bare name means the model's metrics
    file; without a primary file it stays an error listing both."""
    available = {"m/evaluate/metrics.json:cv.roc_auc", "m/train/scorecard.json:cv.roc_auc"}
    chosen = experiments.resolve_metric("cv.roc_auc", available, "m/evaluate/metrics.json")
    assert chosen == "m/evaluate/metrics.json:cv.roc_auc"
    with pytest.raises(KaizenError, match="ambiguous"):
        experiments.resolve_metric("cv.roc_auc", available)
