"""`kaizen mlflow log --register credit` against a real `mlflow server` on 127.0.0.1 (sqlite
backend, temporary artifact root), on a committed copy of the session's reproduced project."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest

from kaizen import cli
from kaizen.commands import mlflow as kaizen_mlflow
from kaizen.commands import pipeline
from kaizen.io.files import file_sha256
from kaizen.pipeline.metrics import flatten
from tests.extras import require
from tests.integration.conftest import Project, copy_project

pytestmark = pytest.mark.integration
mlflow = require("mlflow")

STARTUP_SECONDS = 120
ROWS = 100


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(uri: str) -> bool:
    """Whether the server answers its health check."""
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module", name="server")
def fixture_server(tmp_path_factory):
    """A real tracking server (own process group), stopped after the module."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    uri = f"http://127.0.0.1:{free_port()}"
    command = [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}"),
        *("--default-artifact-root", str(folder / "artifacts")),
        *("--host", "127.0.0.1", "--port", uri.rsplit(":", 1)[1], "--workers", "1"),
    ]
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            command,
            cwd=folder,
            # No job runner: its seven worker processes serve MLflow's GenAI jobs, unused here.
            env=dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not healthy(uri):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"mlflow server did not start on {uri}:\n{tail}")
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kaizen(repo: Project, *args: str) -> dict:
    """`python -m kaizen ARGS` with the project's own code; its JSON result."""
    result = repo.run("env", "PYTHONPATH=src", "python", "-m", "kaizen", *args)
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module", name="logged")
def fixture_logged(ran, server, tmp_path_factory) -> tuple[Project, dict]:
    """A committed copy of the reproduced project, logged once with `--register credit`."""
    repo = copy_project(ran, tmp_path_factory.mktemp("mlflow-repo") / "repo")
    repo.commit("pipeline run")
    return repo, kaizen(repo, "mlflow", "log", "--tracking-uri", server, "--register", "credit")


@pytest.fixture(name="client")
def fixture_client(server):
    """An MLflow client on the test server."""
    return mlflow.MlflowClient(tracking_uri=server)


def aliases(client, name: str) -> dict[str, str]:
    """A registered model's aliases, versions as strings (the REST client's form)."""
    return {alias: str(v) for alias, v in client.get_registered_model(name).aliases.items()}


def the_run(client, repo: Project):
    """The one run tagged with the project's HEAD commit."""
    commit = repo.run("git", "rev-parse", "HEAD").stdout.strip()
    experiment = client.get_experiment_by_name("kaizen").experiment_id
    runs = client.search_runs([experiment], f"tags.`kaizen.commit` = '{commit}'")
    assert len(runs) == 1, runs
    return runs[0]


def test_the_run_holds_metrics_params_tags_and_plots(logged, client, tmp_path):
    """Metrics equal metrics/evaluate/metrics.json (and the other metrics files); params are
    params.yaml's; tags tie the run to git, dvc.lock and the training data."""
    repo, result = logged
    run = the_run(client, repo)
    assert run.info.run_id == result["run_id"] and not result["updated"]
    evaluate = flatten(repo.json("metrics/evaluate/metrics.json"))
    assert {f"evaluate.{k}": v for k, v in evaluate.items()} == {
        k: v for k, v in run.data.metrics.items() if k.startswith("evaluate.")
    }
    assert run.data.metrics["train.rows"] == repo.json("metrics/train.json")["rows"]
    assert run.data.params["train.model"] == repo.params()["train"]["model"]
    assert run.data.params["evaluate.bootstrap"] == str(repo.params()["evaluate"]["bootstrap"])
    assert run.data.tags["drift.verdict"] == repo.json("metrics/drift/metrics.json")["verdict"]
    assert run.data.tags["kaizen.commit"] == result["commit"]
    assert run.data.tags["kaizen.dvc_lock_sha256"] == file_sha256(repo.path / "dvc.lock")
    info = repo.json("models/model.json")
    assert run.data.tags["kaizen.train_sha256"] == info["train_sha256"]
    client.download_artifacts(run.info.run_id, "metrics", str(tmp_path))
    for name in pipeline.plot_files(repo.path / "dvc.yaml"):
        assert (tmp_path / name).read_bytes() == (repo.path / name).read_bytes(), name


def test_registered_model_scores_like_kaizen_predict(logged, client, monkeypatch, tmp_path):
    """`models:/credit@challenger` loaded with mlflow.sklearn gives `kaizen predict`'s scores."""
    repo, result = logged
    assert aliases(client, "credit") == {"challenger": result["version"]}
    raw = (repo.path / "data" / "raw" / "credit_data.csv").read_text(encoding="utf-8")
    source = tmp_path / "new.csv"
    source.write_text("\n".join(raw.splitlines()[: ROWS + 1]) + "\n", encoding="utf-8")
    scored = tmp_path / "scored.csv"
    kaizen(repo, "predict", "--input", str(source), "--output", str(scored))
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    with kaizen_mlflow.fluent_uri(client.tracking_uri):
        model = mlflow.sklearn.load_model("models:/credit@challenger")
    scores = model.predict_proba(pd.read_csv(source))[:, 1]  # the CSV as pandas reads it
    expected = pd.read_csv(scored)["score"].to_numpy()
    assert len(expected) == ROWS
    np.testing.assert_allclose(scores, expected, atol=5e-7)


def test_second_log_of_the_same_commit_adds_no_run(logged, client, server, monkeypatch):
    """Logging again (in-process this time) updates the same run: no run, no model version, no
    metric history added; promote then moves `champion` to the challenger."""
    repo, first = logged
    experiment = client.get_experiment_by_name("kaizen").experiment_id
    before = len(client.search_runs([experiment]))
    monkeypatch.chdir(repo.path)
    monkeypatch.delenv(kaizen_mlflow.TRACKING_URI, raising=False)
    argv = ["mlflow", "log", "--tracking-uri", server, "--register", "credit"]
    assert cli.main(argv) == 0
    assert kaizen_mlflow.TRACKING_URI not in os.environ  # nothing leaks into later processes
    assert len(client.search_runs([experiment])) == before
    run = the_run(client, repo)
    assert run.info.run_id == first["run_id"]
    assert len(client.get_metric_history(run.info.run_id, "evaluate.test.roc_auc")) == 1
    assert len(client.search_model_versions("name = 'credit'")) == 1
    assert kaizen(repo, "mlflow", "promote", "--tracking-uri", server, "--name", "credit") == {
        "name": "credit",
        "champion": first["version"],
        "previous": None,
    }
    assert aliases(client, "credit") == {
        "challenger": first["version"],
        "champion": first["version"],
    }
