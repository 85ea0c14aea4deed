"""The API on a real uvicorn on 127.0.0.1: load, kill -9 under load and restart, schemathesis,
the Dockerfile's command; event stores on SQLite and on a real PostgreSQL 15 started here.

PostgreSQL: the server binaries come from `pg_config --bindir`; the server refuses to run as
root, so as root it runs as the `postgres` user (runuser). Without them the PostgreSQL tests
skip, unless KAIZEN_REQUIRE_POSTGRES=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from kaizen.bundle import artifact
from kaizen.events import migrate, predictions
from kaizen.events.engine import create_engine
from tests.integration.conftest import free_port
from tests.unit.conftest import (  # noqa: F401  # pylint: disable=unused-import
    fixture_bundled,
    fixture_fitted,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KAIZEN = Path(sys.executable).parent / "kaizen"
TOKEN = "integration-token-of-32-bytes-or-more"
APPLICATION = {"Income": 120.0, "Debt": 30.0, "Amount": 900.0, "Price": 1400.0, "Home": "rent"}
LOAD_REQUESTS, LOAD_CLIENTS = 5000, 8
FUZZ_EXAMPLES = 40  # per operation


class Server:
    """`kaizen serve` in a child process on 127.0.0.1."""

    def __init__(self, env: dict[str, str], argv: list[str] | None = None):
        self.port = free_port()
        self.argv = argv or [str(KAIZEN), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
        self.log = tempfile.TemporaryFile()  # pylint: disable=consider-using-with
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        """Start and wait until /ready answers 200 (30 s at most)."""
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited {self.proc.returncode}:\n{self.output()}")
            try:
                if call(self.port, "GET", "/ready")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"server not ready in 30 s:\n{self.output()}")
        return self

    def output(self) -> str:
        """What the server printed."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (graceful), then make sure it is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def call(port: int, method: str, path: str, body: dict | bytes | None = None, conn=None):
    """One HTTP request (a JSON body as a dict, or already encoded); (status, parsed JSON or
    text)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload else {}
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
        data = response.read()
        is_json = response.getheader("content-type", "").startswith("application/json")
        return response.status, json.loads(data) if is_json else data.decode()
    finally:
        if own:
            conn.close()


class Load:  # pylint: disable=too-many-instance-attributes  # what a run counts and measures
    """Clients sending one application per request until told to stop (or the server dies)."""

    def __init__(self, port: int, clients: int, per_client: int | None = None, body=None):
        self.port, self.per_client = port, per_client
        # encoded once: the clients share the machine with the server they load
        self.body = json.dumps(body or {"applications": [APPLICATION]}).encode()
        self.acknowledged: list[str] = []
        self.errors: list[str] = []
        self.seconds: list[float] = []  # per request (benchmarks read it)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def _client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = 0
        while not self.stop.is_set() and (self.per_client is None or sent < self.per_client):
            started = time.perf_counter()
            try:
                status, body = call(self.port, "POST", "/predict", self.body, conn)
            except (OSError, http.client.HTTPException) as exc:  # the server was killed
                self.errors.append(f"connection: {exc}")
                return
            self.seconds.append(time.perf_counter() - started)
            sent += 1
            if status == 200:
                self.acknowledged.extend(p["prediction_id"] for p in body["predictions"])
            else:
                self.errors.append(f"{status}: {body}")
        conn.close()

    def run(self) -> "Load":
        """Start every client."""
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> "Load":
        """Wait for every client."""
        for thread in self.threads:
            thread.join(timeout=120)
        return self


def stored_ids(db: str) -> set[str]:
    """Prediction ids in the store."""
    engine = create_engine(db)
    try:
        return {event["prediction_id"] for event in predictions.events(engine)}
    finally:
        engine.dispose()


def initialised(db: str) -> str:
    """`kaizen events init` on `db` (the real command), then `db`."""
    result = subprocess.run(
        [str(KAIZEN), "events", "init", "--db", db], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return db


def server_env(bundled: Path, db: str) -> dict[str, str]:
    """Environment of a server on the tiny model's bundle and this store."""
    return {
        "KAIZEN_BUNDLE": str(bundled),
        "KAIZEN_DB": db,
        "KAIZEN_THRESHOLD": "0.5",
        "KAIZEN_FEEDBACK_TOKEN": TOKEN,
    }


# --- PostgreSQL (the server: tests/integration/conftest.py) --------------------------------------


@pytest.fixture(name="pg_db")
def fixture_pg_db(postgres) -> Iterator[str]:
    """An initialised, empty PostgreSQL event store (every table dropped afterwards)."""
    initialised(postgres)
    yield postgres
    engine = create_engine(postgres)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


# --- tests ---------------------------------------------------------------------------------------


def test_load_every_acknowledged_prediction_is_stored(bundled, tmp_path):
    """5,000 requests from 8 concurrent clients: no error, stored events == acknowledged."""
    db = initialised(str(tmp_path / "events.db"))
    server = Server(server_env(bundled, db)).start()
    try:
        load = Load(server.port, LOAD_CLIENTS, LOAD_REQUESTS // LOAD_CLIENTS).run().join()
    finally:
        server.stop()
    assert not load.errors, load.errors[:5]
    assert len(load.acknowledged) == LOAD_REQUESTS
    assert stored_ids(db) == set(load.acknowledged)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_under_load_loses_no_acknowledged_prediction(bundled, tmp_path, request, backend):
    """SIGKILL while 8 clients send; after a restart the store passes its integrity check and
    holds every acknowledged prediction."""
    db = request.getfixturevalue("pg_db") if backend == "postgresql" else None
    db = db or initialised(str(tmp_path / "events.db"))
    server = Server(server_env(bundled, db)).start()
    load = Load(server.port, LOAD_CLIENTS).run()
    deadline = time.monotonic() + 60
    while len(load.acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    load.stop.set()
    load.join()
    assert len(load.acknowledged) >= 300, server.output()
    restarted = Server(server_env(bundled, db)).start()
    try:
        status, body = call(restarted.port, "POST", "/predict", {"applications": [APPLICATION]})
        assert status == 200
    finally:
        restarted.stop()
    engine = create_engine(db)
    try:
        assert predictions.integrity(engine) == []
    finally:
        engine.dispose()
    stored = stored_ids(db)
    assert set(load.acknowledged) <= stored
    assert body["predictions"][0]["prediction_id"] in stored


def test_postgres_store_rules(pg_db):
    """The same store semantics on PostgreSQL: idempotent init, feedback rules, window, purge."""
    # pylint: disable-next=import-outside-toplevel  # shared with the SQLite unit tests
    from tests.unit.events.test_predictions import T0, event, record

    engine = create_engine(pg_db)
    try:
        assert migrate.upgrade(engine).created is False
        first, second = event(T0), event(T0.replace(day=2))
        record(engine, [first, second])
        assert predictions.add_feedback(engine, first["prediction_id"], 1, T0, T0).created is True
        assert predictions.add_feedback(engine, first["prediction_id"], 1, T0, T0).created is False
        [labelled] = predictions.events(engine, labelled_only=True)
        assert labelled["created_at"] == T0 and labelled["inputs"] == first["inputs"]
        assert predictions.purge(engine, T0.replace(day=2)) == {"predictions": 1, "feedback": 1}
        assert predictions.count(engine) == 1 and predictions.integrity(engine) == []
    finally:
        engine.dispose()


def dockerfile() -> tuple[dict[str, str], list[str], list[str]]:
    """The runtime stage's ENV, its CMD and its HEALTHCHECK command (exec forms)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    runtime = text.split(" AS runtime", 1)[1]
    env: dict[str, str] = {}
    for line in runtime.splitlines():
        if line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in shlex.split(line[4:]))
    command = json.loads(runtime.split("\nCMD ", 1)[1].splitlines()[0])
    health = json.loads(runtime.split(" CMD ", 1)[1].splitlines()[0])
    return env, command, health


def test_dockerfile_command_and_environment_serve(bundled, tmp_path):
    """The image's CMD with its ENV (paths pointed at this machine, bound to 127.0.0.1 on a
    free port) serves /health and /predict, and its HEALTHCHECK command passes."""
    env, command, health = dockerfile()
    assert command == ["kaizen", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert {"KAIZEN_BUNDLE", "KAIZEN_DB"} <= set(env)
    env.pop("PATH")  # the image's venv; here the project's
    db = initialised(str(tmp_path / "events.db"))
    env.update(KAIZEN_BUNDLE=str(bundled), KAIZEN_DB=db)
    server = Server(env)
    server.argv = [str(KAIZEN)] + command[1:]
    server.argv[server.argv.index("0.0.0.0")] = "127.0.0.1"
    server.argv[server.argv.index("8000")] = str(server.port)
    server.start()
    try:
        status, body = call(server.port, "GET", "/health")
        assert status == 200 and body["threshold"] == artifact.load(bundled).threshold
        status, body = call(server.port, "POST", "/predict", {"applications": [APPLICATION]})
        assert status == 200 and len(body["predictions"]) == 1
        probe = [sys.executable if health[0] == "python" else health[0]] + health[1:]
        probe[-1] = probe[-1].replace(":8000/", f":{server.port}/")
        assert subprocess.run(probe, check=False, timeout=30).returncode == 0
    finally:
        server.stop()


def test_no_server_error_on_any_generated_input(bundled, tmp_path):
    """Whatever schemathesis generates from the server's own OpenAPI document, for every
    operation, never a 5xx (derandomized: the same cases every run)."""
    db = initialised(str(tmp_path / "events.db"))
    server = Server(server_env(bundled, db)).start()
    try:
        api = schemathesis.openapi.from_url(f"http://127.0.0.1:{server.port}/openapi.json")
        operations = [result.ok() for result in api.get_all_operations()]
        assert {op.path for op in operations} >= {"/predict", "/feedback", "/health", "/ready"}
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=FUZZ_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            def no_5xx(case):
                case.call_and_validate(checks=[not_a_server_error])

            no_5xx()  # pylint: disable=no-value-for-parameter  # hypothesis supplies `case`
    finally:
        server.stop()
