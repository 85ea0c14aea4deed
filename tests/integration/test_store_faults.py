"""The event store failing under a live API (real uvicorn on 127.0.0.1): an SQLite file made
unwritable under load, a PostgreSQL server stopped and restarted. While the store cannot be
written, predictions are refused (503, nothing acknowledged), `/ready` says so and every store
error is logged with its request id (no values); once the store is back, every request succeeds
again (no connection stuck read-only in the pool)."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.integration.conftest import free_port, postgres_binaries, skip_or_fail
from tests.integration.test_serving import (
    APPLICATION,
    Load,
    Server,
    call,
    initialised,
    server_env,
)
from tests.unit.conftest import (  # noqa: F401  # pylint: disable=unused-import
    fixture_bundled,
    fixture_fitted,
)

pytestmark = pytest.mark.integration
PLANTED = "planted-home-7c1e"  # an unseen category: answered, never logged
AFTER = 200  # requests sent once the store is back: every one must succeed


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    """Poll `check` until it is true (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def immutable(db: Path, on: bool) -> None:
    """`chattr +i` (or -i) on the SQLite file and its -wal and -shm files."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True)


def ready(port: int) -> int:
    """/ready's status."""
    return call(port, "GET", "/ready")[0]


def all_succeed(port: int) -> list[str]:
    """AFTER requests from 4 clients; the errors (none expected)."""
    load = Load(port, 4, AFTER // 4).run().join()
    return load.errors + ([] if len(load.acknowledged) == AFTER else ["not all acknowledged"])


def started(server: Server) -> Server:
    """Start `server` and wait until /health answers (not /ready: the store may be down)."""
    assert server.proc is None
    server.proc = subprocess.Popen(  # pylint: disable=consider-using-with
        server.argv, env=server.env, stdout=server.log, stderr=subprocess.STDOUT
    )

    def health() -> bool:
        assert server.proc is not None and server.proc.poll() is None, server.output()
        try:
            return call(server.port, "GET", "/health")[0] == 200
        except OSError:
            return False

    assert wait_for(health, 30), server.output()
    return server


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root (CAP_LINUX_IMMUTABLE)")
@pytest.mark.skipif(shutil.which("chattr") is None, reason="no chattr (e2fsprogs)")
def test_sqlite_unwritable_store_is_not_ready_then_recovers(bundled, tmp_path):
    """An immutable store file (SQLite then opens it read-only, silently): predictions 503,
    /ready 503 (it proves writability), each error logged with its request id and without the
    request's values; writable again: /ready 200 and 0 % failures over 200 requests."""
    db = Path(initialised(str(tmp_path / "events.db")))
    env = server_env(bundled, str(db))
    first = Server(env).start()  # registers the bundle: the second start needs no write
    first.stop()
    body = {"applications": [{**APPLICATION, "Home": PLANTED}]}
    immutable(db, True)
    server = Server(env)
    try:
        started(server)
        for _ in range(10):
            status, answer = call(server.port, "POST", "/predict", body)
            assert status == 503, answer
        assert ready(server.port) == 503
        immutable(db, False)
        assert wait_for(lambda: ready(server.port) == 200, 10)
        assert not all_succeed(server.port)
        status, _ = call(server.port, "POST", "/predict", body)
        assert status == 200
    finally:
        immutable(db, False)
        log = server.output()
        server.stop()
    assert log.count("event store error") >= 10 and "[request " in log, log
    assert PLANTED not in log


class Postgres:
    """A PostgreSQL server of its own in a temporary folder, which a test may stop and start
    again (the session's shared server must keep running)."""

    def __init__(self, binaries: Path, folder: Path, prefix: list[str]):
        self.binaries, self.folder, self.prefix = binaries, folder, prefix
        self.port = free_port()
        self.data = folder / "data"

    def run(self, *argv: str) -> None:
        """A server binary, as the server's user."""
        done = subprocess.run(self.prefix + list(argv), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {done.stdout}{done.stderr}")

    def start(self) -> None:
        """Start, and wait until it accepts connections."""
        options = f"-k {shlex.quote(str(self.folder))} -p {self.port} -h 127.0.0.1"
        self.run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                 str(self.folder / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        """Stop at once (the connections of the API are cut)."""
        self.run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                 "stop")  # fmt: skip


@pytest.fixture(name="own_postgres")
def fixture_own_postgres() -> Iterator[Postgres]:
    """A running PostgreSQL of this test's own; its URL is `postgresql://kaizen@…/postgres`."""
    binaries = postgres_binaries()
    if binaries is None:
        skip_or_fail("PostgreSQL server binaries not found (pg_config --bindir)")
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="kaizen-pg-own-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            skip_or_fail("running as root and no `postgres` user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    server = Postgres(binaries, folder, prefix)
    server.run(str(binaries / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "kaizen",
               "--no-sync")  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_stopped_is_503_not_ready_then_recovers(bundled, own_postgres):
    """The server stopped under the API: predictions 503 (nothing acknowledged), /ready 503,
    /health still answers, errors logged with request ids; restarted: /ready 200 and 0 %
    failures over 200 requests."""
    db = initialised(f"postgresql://kaizen@127.0.0.1:{own_postgres.port}/postgres")
    server = Server(server_env(bundled, db)).start()
    body = {"applications": [{**APPLICATION, "Home": PLANTED}]}
    try:
        assert call(server.port, "POST", "/predict", body)[0] == 200
        own_postgres.stop()
        for _ in range(5):
            status, answer = call(server.port, "POST", "/predict", body)
            assert status == 503 and "prediction_id" not in str(answer)
        assert ready(server.port) == 503
        status, health = call(server.port, "GET", "/health")
        assert status == 200 and health["store"] == "unreachable"
        own_postgres.start()
        assert wait_for(lambda: ready(server.port) == 200, 15)
        assert not all_succeed(server.port)
    finally:
        log = server.output()
        server.stop()
    assert log.count("event store error") >= 5 and "[request " in log, log
    assert PLANTED not in log
