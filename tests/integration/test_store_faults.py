"""The event store failing under a live API (real uvicorn on 127.0.0.1): an SQLite file made
unwritable under load, a PostgreSQL server stopped and restarted. While the store cannot be
written, predictions are refused (503, nothing acknowledged), `/ready` says so and every store
error is logged with its request id (no values); once the store is back, every request succeeds
again (no connection stuck read-only in the pool)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.integration.test_serving import (
    APPLICATION,
    Load,
    Server,
    call,
    initialised,
    server_env,
    stored_ids,
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
        assert all_succeed(server.port) == []
        status, _ = call(server.port, "POST", "/predict", body)
        assert status == 200
    finally:
        immutable(db, False)
        log = server.output()
        server.stop()
    assert log.count("event store error") >= 10 and "[request " in log, log
    assert PLANTED not in log
