"""DVC remote storage against a real S3-compatible server: moto's server mode on 127.0.0.1.

The server is moto's own WSGI application (what `moto_server` and `ThreadedMotoServer` serve)
under werkzeug in a thread of the test process, so that the test can stop it the way a crash
does, dropping every open connection, and start it again on the same port with its stored
objects kept, as a real server keeps its disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import boto3
import numpy as np
import pytest
import yaml
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from tests.integration.conftest import ROOT, Project, environment
from tests.integration.test_data_add import add, monthly_loans

pytestmark = pytest.mark.integration

SECONDS = 120  # bound on any wait for a push


class Cut:  # pylint: disable=too-few-public-methods
    """WSGI wrapper: the `after`-th object upload stops half-way through its body, signals
    `reached`, and hangs until `release` (the test stops the server meanwhile)."""

    def __init__(self, app, after: int):
        self.app, self.after, self.uploads = app, after, 0
        self.lock = threading.Lock()
        self.reached, self.release = threading.Event(), threading.Event()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PUT" and "/files/md5/" in environ["PATH_INFO"]:
            with self.lock:
                self.uploads += 1
                cut = self.uploads == self.after
            if cut:
                size = int(environ.get("CONTENT_LENGTH") or 2)
                environ["wsgi.input"].read(size // 2)
                self.reached.set()
                self.release.wait(SECONDS)
                start_response("500 Internal Server Error", [("Content-Length", "0")])
                return [b""]
        return self.app(environ, start_response)


class S3Server:
    """moto's S3-compatible server on 127.0.0.1:`port`, serving `bucket`; `stop` drops every
    connection. moto keeps its objects in this process: each test uses a bucket of its own."""

    def __init__(self, port: int, bucket: str, cut_after: int | None = None):
        self.port, self.bucket = port, bucket
        app = DomainDispatcherApplication(create_backend_app)
        self.cut = Cut(app, cut_after) if cut_after else None
        self.server = make_server(
            "127.0.0.1", port, self.cut or app, threaded=True, request_handler=MotoRequestHandler
        )
        self.connections: list[socket.socket] = []
        accept = self.server.get_request

        def get_request():
            connection, address = accept()
            self.connections.append(connection)
            return connection, address

        self.server.get_request = get_request  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        """The endpoint URL for dvc and boto3."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop serving, close the port and cut the connections in flight (once)."""
        if not self.thread.is_alive():
            return
        self.server.shutdown()
        self.server.server_close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.cut:
            self.cut.release.set()
        self.thread.join(SECONDS)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(name="aws")
def fixture_aws(tmp_path, monkeypatch) -> None:
    """No AWS configuration of this machine, no instance metadata lookups, no proxy for
    127.0.0.1; credentials are given per test (--local config or environment)."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise


def use_env_credentials(monkeypatch) -> None:
    """Credentials from the environment, as CI gives them from its secrets."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def start(bucket: str, port: int | None = None, cut_after: int | None = None) -> S3Server:
    """A server (new port unless given) and, the first time, its bucket."""
    server = S3Server(port or free_port(), bucket, cut_after)
    if port is None:
        client(server).create_bucket(Bucket=bucket)
    return server


def client(server: S3Server):
    """A boto3 S3 client of the server."""
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def stored_objects(server: S3Server) -> dict[str, bytes]:
    """Every object of the bucket: key -> content."""
    s3 = client(server)
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=server.bucket):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=server.bucket, Key=item["Key"])["Body"]
            out[item["Key"]] = body.read()
    return out


def assert_content_addressed(objects: dict[str, bytes]) -> None:
    """Each object's MD5 is the name DVC stored it under (files/md5/ab/cdef…[.dir])."""
    assert objects
    for key, content in objects.items():
        prefix, name = key.split("/")[-2:]
        assert hashlib.md5(content).hexdigest() == prefix + name.removesuffix(".dir"), key


def configure_remote(repo: Project, server: S3Server) -> None:
    """The remote in .dvc/config (committed: a clone finds it), credentials in
    .dvc/config.local (git-ignored), as the README shows."""
    repo.run("dvc", "remote", "add", "-d", "storage", f"s3://{server.bucket}/store")
    repo.run("dvc", "remote", "modify", "storage", "endpointurl", server.endpoint)
    repo.run("dvc", "remote", "modify", "--local", "storage", "access_key_id", "testing")
    repo.run("dvc", "remote", "modify", "--local", "storage", "secret_access_key", "testing")
    repo.commit("DVC remote")


def tracked_hashes(repo: Path) -> dict[str, str]:
    """path -> md5 of every file DVC stores (dvc.lock outs and .dvc files; a folder output such
    as models/bundle as its files, from its manifest in the cache), not those in git (metrics,
    `cache: false`)."""
    out = {}
    git = Project(repo)
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    for stage in lock["stages"].values():
        for item in stage.get("outs", []):
            if git.run("git", "ls-files", item["path"]).stdout:
                continue
            digest = item["md5"]
            if not digest.endswith(".dir"):
                out[item["path"]] = digest
                continue
            manifest = repo / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]
            for entry in json.loads(manifest.read_text(encoding="utf-8")):
                out[f"{item['path']}/{entry['relpath']}"] = entry["md5"]
    for dvc_file in git.run("git", "ls-files", "*.dvc").stdout.split():
        for item in yaml.safe_load((repo / dvc_file).read_text(encoding="utf-8"))["outs"]:
            out[str(Path(dvc_file).parent / item["path"])] = item["md5"]
    return out


def file_md5(path: Path) -> str:
    """MD5 of a file's bytes (DVC 3's file hash)."""
    return hashlib.md5(path.read_bytes()).hexdigest()


def clone(repo: Project, target: Path) -> Project:
    """A fresh `git clone`: code, params, .dvc files and metrics, no data, no DVC cache."""
    subprocess.run(
        ["git", "clone", "-q", str(repo.path), str(target)], check=True, env=environment()
    )
    return Project(target)


@pytest.mark.usefixtures("aws")
def test_push_fresh_clone_pull_every_hash(reproduced, monkeypatch, tmp_path):
    """A DVC-tracked snapshot and every pipeline output go to the S3 remote; a fresh clone
    pulls them back, every file with the hash DVC recorded, and `dvc status` is clean; a CI-like
    clone runs `dvc repro --pull --allow-missing` without rerunning any stage."""
    server = start("kaizen-snapshot")
    try:
        repo = reproduced
        monthly_loans(repo.path / "loans.csv", rows=600)
        add(repo, "loans.csv", "--target", "Status", "--positive", "bad", "--split-share", "0.3")
        (repo.path / "loans.csv").unlink()
        repo.run("dvc", "repro")
        repo.commit("snapshot loans.csv")
        configure_remote(repo, server)
        hashes = tracked_hashes(repo.path)
        assert "data/raw/loans.csv" in hashes and "models/model.joblib" in hashes
        pushed = repo.run("dvc", "push")
        assert f"{len(hashes)} files pushed" in pushed.stdout
        assert_content_addressed(stored_objects(server))
        assert "in sync" in repo.run("dvc", "status", "--cloud").stdout

        use_env_credentials(monkeypatch)
        fresh = clone(repo, tmp_path / "fresh")
        assert not (fresh.path / "data/raw/loans.csv").exists()
        fresh.run("dvc", "pull")
        for path, md5 in hashes.items():
            assert file_md5(fresh.path / path) == md5, path
            assert (fresh.path / path).read_bytes() == (repo.path / path).read_bytes(), path
        assert fresh.run("dvc", "status").stdout.strip() == "Data and pipelines are up to date."
        assert "in sync" in fresh.run("dvc", "status", "--cloud").stdout

        # CI: .ci/remote maps the secrets to credentials and picks `--pull --allow-missing`.
        ci = clone(repo, tmp_path / "ci")
        (ci.path / ".ci").mkdir()
        shutil.copy2(ROOT / ".ci" / "remote", ci.path / ".ci" / "remote")
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        flags = ci.run(".ci/remote", "sh", "-c", "echo flags=[$REPRO_FLAGS]")
        assert flags.stdout == "flags=[]\n" and "runs on the data in git" in flags.stderr
        monkeypatch.setenv("REMOTE_KEY_ID", "testing")
        monkeypatch.setenv("REMOTE_SECRET", "testing")
        result = ci.run(".ci/remote", "sh", "-c", "dvc repro $REPRO_FLAGS")
        assert "with credentials: dvc repro --pull --allow-missing" in result.stderr
        assert "Running stage" not in result.stdout, result.stdout
        assert ci.run("git", "status", "--porcelain", "--untracked-files=no").stdout == ""
    finally:
        server.stop()


@pytest.mark.usefixtures("aws")
def test_push_cut_mid_upload_then_pushed_again(monkeypatch, tmp_path):
    """The server stops while receiving an object: the push fails, nothing half-written is
    stored; once it is back, the same push completes and a fresh clone pulls every file."""
    use_env_credentials(monkeypatch)
    repo = Project(tmp_path / "store")
    repo.path.mkdir()
    repo.run("git", "init", "-q", "-b", "main")
    repo.run("dvc", "init", "-q")
    archive = repo.path / "data" / "archive"
    archive.mkdir(parents=True)
    rng = np.random.default_rng(11)
    for month in range(120):
        (archive / f"batch-{month:03d}.bin").write_bytes(rng.bytes(64 * 1024))
    repo.run("dvc", "add", "data/archive")
    repo.commit("archive")
    server = start("kaizen-cut", cut_after=40)
    port = server.port
    try:
        configure_remote(repo, server)
        command = ["dvc", "push", "-j", "2"]
        # One attempt per request: the push fails at once while the server is down, instead
        # of backing off for minutes on every remaining file.
        push = subprocess.Popen(  # pylint: disable=consider-using-with
            command,
            cwd=repo.path,
            env={**environment(), "AWS_MAX_ATTEMPTS": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert server.cut is not None and server.cut.reached.wait(SECONDS)
        server.stop()
        output = push.communicate(timeout=SECONDS)[0]
        assert push.returncode != 0 and "failed to upload" in output, output
    finally:
        server.stop()
    server = start("kaizen-cut", port)
    try:
        before = stored_objects(server)
        assert 0 < len(before) < 121  # 120 files + the directory listing (.dir)
        assert_content_addressed(before)
        pushed = int(repo.run(*command).stdout.split(" files pushed")[0].split()[-1])
        assert 121 - len(before) <= pushed <= 121  # what is missing (DVC may resend a few)
        after = stored_objects(server)
        assert len(after) == 121 and all(after[key] == value for key, value in before.items())
        assert_content_addressed(after)
        assert "in sync" in repo.run("dvc", "status", "--cloud").stdout
        fresh = clone(repo, tmp_path / "fresh")
        fresh.run("dvc", "pull")
        for path in archive.iterdir():
            assert (fresh.path / "data/archive" / path.name).read_bytes() == path.read_bytes()
        assert fresh.run("dvc", "status").stdout.strip() == "Data and pipelines are up to date."
    finally:
        server.stop()


def test_local_directory_remote(tmp_path):
    """The README's other remote: a plain directory; push, fresh clone, pull, same bytes."""
    repo = Project(tmp_path / "repo")
    repo.path.mkdir()
    repo.run("git", "init", "-q", "-b", "main")
    repo.run("dvc", "init", "-q")
    monthly_loans(repo.path / "loans.csv", rows=200)
    repo.run("dvc", "add", "loans.csv")
    repo.run("dvc", "remote", "add", "-d", "storage", str(tmp_path / "storage"))
    repo.commit("snapshot + local remote")
    assert repo.run("dvc", "push").stdout.strip() == "1 file pushed"
    fresh = clone(repo, tmp_path / "fresh")
    fresh.run("dvc", "pull")
    assert (fresh.path / "loans.csv").read_bytes() == (repo.path / "loans.csv").read_bytes()
    assert fresh.run("dvc", "status").stdout.strip() == "Data and pipelines are up to date."
