"""A throw-away copy of the repository with real git + dvc, on a small slice of the data."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("src", "dvc.yaml", "params.yaml", ".gitignore", "pyproject.toml", "Makefile")
TEMPLATES = ".dvc/plots"  # the project's own plot templates, copied after `dvc init`
SLICE_ROWS = 600  # first rows of credit_data: enough for stable metrics, fast to fit
FAST_PARAMS = {
    "data": {"split": {"by": "share", "current": 0.3}},
    "evaluate": {"bootstrap": 50, "permutation_repeats": 1},
    "train": {"rf": {"n_estimators": 20}, "hgb": {"max_iter": 20}},
    "drift": {"min_rows": 100},  # 420 reference and 180 current rows: enough for a verdict here
    "fairness": {"bootstrap": 50, "stability_refits": 3},
}


def merge(base: dict, update: dict) -> dict:
    """Deep-merge `update` into a copy of `base`."""
    out = dict(base)
    for key, value in update.items():
        # A data.split (a tagged union: `by`) is replaced whole, never merged.
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "by" not in value:
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def environment() -> dict[str, str]:
    """The test interpreter's bin first on PATH (for `python` and `dvc`), no analytics."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env.update(
        {
            "DVC_NO_ANALYTICS": "1",
            "GIT_AUTHOR_NAME": "test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
        }
    )
    return env


@dataclass
class Project:
    """A temporary repository copy; `run` executes a command inside it."""

    path: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a command in the project; fail the test with its output when `check` and it fails."""
        result = subprocess.run(
            args, cwd=self.path, env=environment(), capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def params(self) -> dict:
        """The project's params.yaml."""
        return yaml.safe_load((self.path / "params.yaml").read_text(encoding="utf-8"))

    def set_params(self, update: dict) -> None:
        """Deep-merge `update` into params.yaml."""
        text = yaml.safe_dump(merge(self.params(), update), sort_keys=False)
        (self.path / "params.yaml").write_text(text, encoding="utf-8")

    def json(self, relative: str) -> dict:
        """Read a JSON file of the project."""
        return json.loads((self.path / relative).read_text(encoding="utf-8"))

    def commit(self, message: str) -> None:
        """Stage everything and commit."""
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "-m", message)


def write_slice(target: Path, rows: int = SLICE_ROWS) -> None:
    """The header and first `rows` data rows of the embedded data set."""
    lines = (ROOT / "data" / "raw" / "credit_data.csv").read_text(encoding="utf-8").splitlines()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")


def copy_project(source: Project, target: Path) -> Project:
    """An independent copy of a project: git history, DVC cache, outputs and lock included."""
    shutil.copytree(source.path, target, symlinks=True)
    return Project(target)


@pytest.fixture
def reproduced(ran: Project, tmp_path: Path) -> Project:
    """A private copy of the session's reproduced project, with its outputs committed."""
    repo = copy_project(ran, tmp_path / "repo")
    repo.commit("pipeline run")
    return repo


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A committed git + dvc repository holding the pipeline and a data slice (not yet run)."""
    return build_project(tmp_path / "repo")


@pytest.fixture(scope="session", name="ran")
def fixture_ran(tmp_path_factory) -> Project:
    """One cold `dvc repro` shared by the session: read it, never change it (change a copy)."""
    repo = build_project(tmp_path_factory.mktemp("ran") / "repo")
    repo.run("dvc", "repro")
    return repo


def build_project(path: Path, rows: int = SLICE_ROWS) -> Project:
    """Create at `path` the committed git + dvc repository that the `project` fixture yields."""
    path.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, path / name)
    write_slice(path / "data" / "raw" / "credit_data.csv", rows)
    repo = Project(path)
    repo.set_params(FAST_PARAMS)
    repo.run("git", "init", "-q", "-b", "main")
    repo.run("dvc", "init", "-q")
    repo.run("dvc", "config", "core.analytics", "false")
    shutil.copytree(ROOT / TEMPLATES, path / TEMPLATES, dirs_exist_ok=True)
    repo.commit("initial")
    return repo


# --- PostgreSQL 15 in a temporary folder (the monitor's and the store's tests) -------------------


def skip_or_fail(reason: str) -> None:
    """Skip, or fail when the run requires PostgreSQL (CI sets KAIZEN_REQUIRE_POSTGRES=1)."""
    if os.environ.get("KAIZEN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"KAIZEN_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def postgres_binaries() -> Path | None:
    """The folder of initdb and pg_ctl, from `pg_config --bindir`."""
    config = shutil.which("pg_config")
    if config is None:
        return None
    found = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False)
    folder = Path(found.stdout.strip())
    return folder if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file() else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def temporary_postgres(missing: Callable[[str], None] = skip_or_fail) -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 in a temporary folder, stopped on exit; its URL
    (database `postgres`). `missing(reason)` is called (and must raise) when it cannot run."""
    binaries = postgres_binaries()
    if binaries is None:
        missing("PostgreSQL server binaries not found (pg_config --bindir)")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="kaizen-pg-"))
    if os.geteuid() == 0:  # the server refuses root: run it as `postgres`
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            missing("running as root and no `postgres` user to run the server as")
        if shutil.which("runuser") is None:
            missing("running as root and no `runuser` to switch to `postgres`")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()

    def run(*argv: str) -> None:
        result = subprocess.run(prefix + list(argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {result.stdout}{result.stderr}")

    run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "kaizen", "--no-sync")
    options = f"-k {shlex.quote(str(folder))} -p {port} -h 127.0.0.1"
    pg_ctl = str(binaries / "pg_ctl")
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        yield f"postgresql://kaizen@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", name="postgres")
def fixture_postgres() -> Iterator[str]:
    """One PostgreSQL server for the session."""
    with temporary_postgres() as url:
        yield url


def fresh_database(server: str) -> str:
    """A new, empty database on the server at `server` (a URL of its database `postgres`); its
    URL."""
    # pylint: disable-next=import-outside-toplevel  # only the PostgreSQL tests need it
    import sqlalchemy as sa

    name = f"kaizen_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session", name="spark")
def fixture_spark() -> Iterator:
    """One local[2] Spark session for the whole run (its start-up is the slow part), quiet,
    stopped at the end; modules that use it `require("pyspark")` first."""
    from pyspark.sql import SparkSession  # pylint: disable=import-outside-toplevel

    session = (
        SparkSession.builder.master("local[2]")  # pylint: disable=no-member
        .appName("kaizen tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
