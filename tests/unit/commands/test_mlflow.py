"""`kaizen mlflow`: the missing-extra error, workspace checks, and the MLflow side against a real
in-process sqlite tracking store (the end-to-end run against `mlflow server` is an integration
test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kaizen import KaizenError, cli
from kaizen.bundle import artifact
from kaizen.io import files
from kaizen.commands import mlflow as command
from kaizen.commands import runner
from kaizen.experiments.selection import Experiment
from kaizen.experiments.tracking import PredictInputs
from tests.extras import require
from tests.unit.helpers import assert_one_line_error

COMMIT = "c" * 40


def test_require_skips_or_fails_when_required(monkeypatch):
    """A missing extra skips, except where KAIZEN_REQUIRE_<EXTRA>=1 (CI): then it fails."""
    monkeypatch.delenv("KAIZEN_REQUIRE_KAIZEN_NO_SUCH_EXTRA", raising=False)
    with pytest.raises(pytest.skip.Exception, match="kaizen_no_such_extra is not installed"):
        require("kaizen_no_such_extra")
    monkeypatch.setenv("KAIZEN_REQUIRE_KAIZEN_NO_SUCH_EXTRA", "1")
    with pytest.raises(pytest.fail.Exception, match="KAIZEN_REQUIRE_KAIZEN_NO_SUCH_EXTRA=1"):
        require("kaizen_no_such_extra")


@pytest.mark.parametrize("subcommand", ["log", "promote"])
def test_missing_mlflow_names_the_install_line(subcommand, monkeypatch, tmp_path, capsys):
    """Without the extra, each subcommand stops with one line saying how to install it."""
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` raises ImportError
    monkeypatch.chdir(tmp_path)
    assert cli.main(["mlflow", subcommand]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_line_error(
        captured.err, f"kaizen mlflow {subcommand}: error: MLflow is not installed", command.INSTALL
    )
    assert not list(tmp_path.iterdir())


def test_promote_if_configured_without_mlflow_does_nothing(monkeypatch, capsys):
    """`make promote` keeps working where MLflow is absent: exit 0, one note on stderr."""
    monkeypatch.setitem(sys.modules, "mlflow", None)
    assert cli.main(["mlflow", "promote", "--if-configured"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "kaizen mlflow promote: skipped (MLflow is not installed)\n"


def test_tracking_uri_precedence(monkeypatch):
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the local sqlite file."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert command.tracking_uri(None) == "sqlite:///mlruns.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert command.tracking_uri(None) == "http://127.0.0.1:5000"
    assert command.tracking_uri("sqlite:///other.db") == "sqlite:///other.db"


def fake_workspace(monkeypatch, status: dict, porcelain: str) -> list[tuple[str, ...]]:
    """`runner.execute` answering rev-parse, `dvc status --json` and `git status --porcelain`."""
    calls: list[tuple[str, ...]] = []

    def execute(*args: str, **_options) -> subprocess.CompletedProcess:
        calls.append(args)
        out = {
            ("git", "rev-parse"): f"{COMMIT}\n",
            ("dvc", "status"): json.dumps(status),
            ("git", "status"): porcelain,
        }[args[:2]]
        return subprocess.CompletedProcess(args, 0, out, "")

    monkeypatch.setattr(runner, "execute", execute)
    return calls


def test_committed_run_is_heads_commit(monkeypatch):
    """Up-to-date pipeline and committed files: HEAD's id; git is asked about those files."""
    calls = fake_workspace(monkeypatch, {}, "")
    assert command.committed_run(["dvc.lock", "params.yaml"]) == COMMIT
    assert ("git", "status", "--porcelain", "--", "dvc.lock", "params.yaml") in calls


def test_committed_run_refuses_a_stale_pipeline(monkeypatch):
    """`dvc status` naming stages: the run would not match its commit."""
    fake_workspace(monkeypatch, {"train": [{"changed deps": {}}], "evaluate": []}, "")
    with pytest.raises(
        KaizenError, match=r"dvc status: evaluate, train changed\): run `dvc repro`"
    ):
        command.committed_run(["dvc.lock"])


def test_committed_run_refuses_uncommitted_results(monkeypatch):
    """A reproduced but uncommitted dvc.lock or metrics file is named."""
    fake_workspace(monkeypatch, {}, " M dvc.lock\n?? metrics/train.json\n")
    with pytest.raises(KaizenError, match="uncommitted changes to dvc.lock, metrics/train.json"):
        command.committed_run(["dvc.lock", "metrics/train.json"])


# --- against a real (sqlite) tracking store ---------------------------------------------------


@pytest.fixture(scope="module", name="store")
def fixture_store(tmp_path_factory) -> tuple[str, str]:
    """(tracking URI, experiment id): a sqlite store with its artifacts in a temporary folder."""
    require("mlflow")
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    experiment = command.client(uri).create_experiment(
        "unit", artifact_location=(folder / "artifacts").as_uri()
    )
    return uri, experiment


def commit_run(client, experiment: str, commit: str):
    """`upsert_run` keyed by a (fake) commit, named after it: (run id, logged data or None)."""
    return command.upsert_run(client, experiment, "kaizen.commit", commit, name=commit, tags={})


def test_upsert_and_record_update_a_run_in_place(store):
    """A tag finds its run again; unchanged values add no metric history, changed ones do."""
    uri, experiment = store
    client = command.client(uri)
    run_id, logged = commit_run(client, experiment, "a1")
    assert logged is None
    command.record(client, run_id, None, params={"p": "1"}, metrics={"m": 0.5}, tags={"t": "x"})
    again, logged = commit_run(client, experiment, "a1")
    assert again == run_id and logged.metrics == {"m": 0.5} and logged.params == {"p": "1"}
    command.record(
        client, run_id, logged, params={"p": "1"}, metrics={"m": 0.5, "n": 2.0}, tags={"t": "y"}
    )
    assert [m.value for m in client.get_metric_history(run_id, "m")] == [0.5]
    command.record(
        client, run_id, client.get_run(run_id).data, params={}, metrics={"m": 0.7}, tags={}
    )
    assert [m.value for m in client.get_metric_history(run_id, "m")] == [0.5, 0.7]
    assert client.get_run(run_id).data.tags["t"] == "y"
    other, logged = commit_run(client, experiment, "b2")
    assert other != run_id and logged is None


def test_log_model_round_trip(store, fitted, bundled, monkeypatch):
    """The logged pipeline (behind PredictInputs) loads back with MLflow and scores like the saved
    one; it carries the signature, kaizen's code, pinned requirements and predict_proba as its
    pyfunc. MLFLOW_TRACKING_URI, which MLflow sets with its global URI, does not leak out."""
    uri, experiment = store
    client = command.client(uri)
    run_id, _ = commit_run(client, experiment, "model")
    info = files.read_json(fitted.info)
    monkeypatch.delenv(command.TRACKING_URI, raising=False)
    model_uri = command.log_model(uri, run_id, artifact.load(bundled), str(fitted.train))
    assert command.TRACKING_URI not in os.environ
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    schema = info["schema"]
    features = files.read_parquet(fitted.test)[schema["numeric"] + schema["categorical"]]
    expected = files.load_model(fitted.model).predict_proba(features)
    with command.fluent_uri(uri) as mlflow:
        loaded = mlflow.sklearn.load_model(model_uri)
        pyfunc = mlflow.pyfunc.load_model(model_uri)
        local = Path(mlflow.artifacts.download_artifacts(model_uri))
    assert isinstance(loaded[0], PredictInputs)
    np.testing.assert_array_equal(loaded.predict_proba(features), expected)
    np.testing.assert_array_equal(pyfunc.predict(features), expected)
    assert [c.name for c in pyfunc.metadata.get_input_schema().inputs] == list(features.columns)
    requirements = (local / "requirements.txt").read_text(encoding="utf-8").split()
    assert set(command.model_requirements()) <= set(requirements)
    assert (local / "code" / "kaizen" / "pipeline" / "features.py").is_file()


def test_fluent_uri_puts_the_variable_back(store, monkeypatch):
    """Inside the block MLflow's global URI (and the variable) is the given one; after it, the
    variable is as it was: unset, or the user's value."""
    uri, _ = store
    monkeypatch.delenv(command.TRACKING_URI, raising=False)
    with command.fluent_uri(uri) as mlflow:
        assert mlflow.get_tracking_uri() == uri and os.environ[command.TRACKING_URI] == uri
    assert command.TRACKING_URI not in os.environ
    monkeypatch.setenv(command.TRACKING_URI, "sqlite:///users.db")
    with command.fluent_uri(uri):
        pass
    assert os.environ[command.TRACKING_URI] == "sqlite:///users.db"


def logged_model_uri(client, experiment: str, run_id: str) -> str:
    """A logged-model entity of the run, without artifacts (enough to register a version)."""
    return client.create_logged_model(experiment, name="model", source_run_id=run_id).model_uri


def test_register_version_once_per_run_and_move_challenger(store):
    """Registering a run twice gives one version; a newer run's version takes `challenger`."""
    uri, experiment = store
    client = command.client(uri)
    first, _ = commit_run(client, experiment, "r1")
    second, _ = commit_run(client, experiment, "r2")
    first_uri = logged_model_uri(client, experiment, first)
    assert command.register_version(client, "reg", first, first_uri) == "1"
    assert command.register_version(client, "reg", first, first_uri) == "1"
    assert client.get_registered_model("reg").aliases == {"challenger": 1}
    second_uri = logged_model_uri(client, experiment, second)
    assert command.register_version(client, "reg", second, second_uri) == "2"
    assert client.get_registered_model("reg").aliases == {"challenger": 2}
    assert len(client.search_model_versions("name = 'reg'")) == 2


def test_promote_moves_champion(store, capsys):
    """Default: to the challenger's version; --version picks one; the previous one is reported."""
    uri, experiment = store
    client = command.client(uri)
    for name in ("p1", "p2"):
        run_id, _ = commit_run(client, experiment, name)
        command.register_version(
            client, "promoted", run_id, logged_model_uri(client, experiment, run_id)
        )
    argv = ["mlflow", "promote", "--tracking-uri", uri, "--name", "promoted"]
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {
        "name": "promoted",
        "champion": "2",
        "previous": None,
    }
    assert cli.main([*argv, "--version", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["previous"] == "2"
    assert client.get_registered_model("promoted").aliases == {"challenger": 2, "champion": 1}
    assert cli.main([*argv, "--version", "9"]) == 1
    assert_one_line_error(capsys.readouterr().err.splitlines()[-1], "version=9) not found")


def test_promote_errors_and_skips(store, capsys):
    """No such model, or no challenger: one line; --if-configured skips a missing model."""
    uri, _ = store
    command.client(uri).create_registered_model("bare")
    base = ["mlflow", "promote", "--tracking-uri", uri]
    assert cli.main([*base, "--name", "bare"]) == 1
    assert_one_line_error(capsys.readouterr().err, "'bare' has no challenger alias")
    assert cli.main([*base, "--name", "nope"]) == 1
    assert_one_line_error(
        capsys.readouterr().err, "no registered model 'nope'", "kaizen mlflow log --register nope"
    )
    assert cli.main([*base, "--name", "nope", "--if-configured"]) == 0
    assert (
        capsys.readouterr().err == "kaizen mlflow promote: skipped (no registered model 'nope')\n"
    )


def test_promote_without_a_store_creates_none(store, monkeypatch, tmp_path, capsys):
    """With no URI set and no mlruns.db, promote neither creates the file nor connects."""
    del store  # only for MLflow being installed
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["mlflow", "promote"]) == 1
    assert_one_line_error(capsys.readouterr().err, "no tracking store", "mlruns.db does not exist")
    assert cli.main(["mlflow", "promote", "--if-configured"]) == 0
    assert "skipped (no tracking store" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_mirror_experiments_as_nested_runs(store, monkeypatch):
    """Finished experiments become nested runs (failed ones FAILED), found again on a rerun;
    queued ones are left out."""
    uri, experiment = store
    client = command.client(uri)
    parent, _ = commit_run(client, experiment, "parent")
    metric = "metrics/evaluate/metrics.json:test.roc_auc"
    rows = [
        Experiment("good", "1" * 40, "success", {"train.model": "hgb"}, {metric: 0.8}),
        Experiment("bad", "2" * 40, "failed", {"train.model": "nope"}, {}),
        Experiment("later", "3" * 40, "queued"),
    ]
    monkeypatch.setattr(command, "exp_table", lambda: (None, rows))
    stages = {"metrics/evaluate/metrics.json": "evaluate"}
    assert command.mirror_experiments(client, experiment, parent, stages) == 2
    assert command.mirror_experiments(client, experiment, parent, stages) == 2
    nested = client.search_runs([experiment], f"tags.`mlflow.parentRunId` = '{parent}'")
    by_name = {run.info.run_name: run for run in nested}
    assert sorted(by_name) == ["bad", "good"]
    assert by_name["good"].data.metrics == {"evaluate.test.roc_auc": 0.8}
    assert by_name["good"].data.params == {"train.model": "hgb"}
    assert by_name["good"].info.status == "FINISHED" and by_name["bad"].info.status == "FAILED"
    assert by_name["good"].data.tags["kaizen.experiment"] == "1" * 40


def test_mlflow_errors_are_one_line(store):
    """MLflow's exceptions become one line naming the tracking URI; a deleted experiment too."""
    uri, _ = store
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel

    with pytest.raises(KaizenError, match=r"^MLflow at sqlite:///x.db: first line$"):
        with command.mlflow_errors("sqlite:///x.db"):
            raise MlflowException("first line\nsecond line")
    client = command.client(uri)
    client.delete_experiment(client.create_experiment("gone"))
    with pytest.raises(KaizenError, match="MLflow experiment 'gone' is deleted"):
        command.experiment_id(client, "gone")
    assert (
        command.experiment_id(client, "fresh")
        == client.get_experiment_by_name("fresh").experiment_id
    )
