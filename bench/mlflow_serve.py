"""Serving benchmark: the registered model behind `mlflow models serve` (no event store), under a
fixed load from this script: throughput, p50/p99 latency and server CPU per request. `kaizen
serve` (with its event store) joins the table, under the same load in the same run, once the
serving API exists: see `kaizen_server` below.

In a throw-away copy of the working tree on the full embedded data: `dvc repro`, commit, `kaizen
mlflow log --register credit` into a local sqlite store, `kaizen predict` on the rows sent (the
expected scores). Each server then starts on 127.0.0.1 and gets WARMUP requests, then REQUESTS
one-row POSTs from CONCURRENCY threads on keep-alive connections (bounded by a time limit); every
answer is checked (HTTP 200, one score equal to `kaizen predict`'s). The load generator shares the
machine's cores with the server: compare servers measured in one run, not absolute numbers. Writes
into bench/README.md between `<!-- mlflow-serve:start -->` / `<!-- mlflow-serve:end -->`.

    .venv/bin/python bench/mlflow_serve.py               # what `make bench-mlflow` runs
    .venv/bin/python bench/mlflow_serve.py --no-readme --requests 300
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import psutil

from pipeline import machine  # bench/pipeline.py (scripts run as bench/<name>.py)
from results import record
from sweep import environment, sh, snapshot

from kaizen import cli

ROWS = 200  # distinct applications sent, cycled
STARTUP_SECONDS = 180
MODEL = "credit"
TOLERANCE = 1e-6  # `kaizen predict` rounds scores to 6 decimals


@dataclass
class Server:
    """How to start one server and talk to it."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready: str  # GET path answering 200 once the model is loaded
    path: str  # POST path scoring one application
    body: Callable[[dict], bytes]  # one application (column -> value) -> request body
    score: Callable[[object], float]  # decoded JSON answer -> the probability of default


@dataclass
class Load:
    """What one load run measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0  # server process tree, user + sys seconds


def mlflow_server(port: int, tracking_uri: str) -> Server:
    """`mlflow models serve` on the registered model's `challenger`, in this environment."""
    return Server(
        name="`mlflow models serve` (no event store; 1 uvicorn worker, `--env-manager local`)",
        command=[
            *(sys.executable, "-m", "mlflow", "models", "serve"),
            *("-m", f"models:/{MODEL}@challenger", "--env-manager", "local"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        ],
        env={"MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"},
        ready="/ping",
        path="/invocations",
        body=lambda row: json.dumps(
            {"dataframe_split": {"columns": list(row), "data": [list(row.values())]}}
        ).encode(),
        score=lambda answer: float(answer["predictions"][0][1]),  # predict_proba: [good, bad]
    )


# ==================================================================================================
# KAIZEN SERVE: the other side of the comparison, to write when the serving API lands (it is being
# built on another branch). Return its Server: the start command (with its event store on, one
# worker like MLflow's), its readiness path, its scoring path, request body and score. Until this
# checkout's CLI has a `serve` command (kaizen_available), the benchmark measures MLflow only and
# says so; once it has one, the benchmark stops here until this function is written.
# ==================================================================================================
def kaizen_available() -> bool:
    """Whether this checkout's CLI has a `serve` command."""
    commands = next(
        action.choices
        for action in cli.parser()._actions  # pylint: disable=protected-access
        if isinstance(getattr(action, "choices", None), dict)
    )
    return "serve" in commands


def kaizen_server(port: int) -> Server:
    """`kaizen serve` with its event store on `port`: to write when `kaizen_available()`."""
    raise SystemExit(
        f"bench: `kaizen serve` exists now: write kaizen_server() in {__file__} "
        f"(command with its event store, paths, request body, score; port {port}), then rerun"
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ready(port: int, path: str) -> bool:
    """Whether GET `path` answers 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start(server: Server, port: int, cwd: Path, log: Path) -> subprocess.Popen:
    """Start the server in its own process group; return once it is ready."""
    with open(log, "wb") as out:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            server.command,
            cwd=cwd,
            env={**os.environ, **server.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready(port, server.ready):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            sys.exit(f"bench: {server.name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def tree_cpu(pid: int) -> float:
    """User + sys CPU seconds of a process and its children."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def send(server: Server, port: int, jobs: list[tuple[dict, float]], deadline: float, out: Load):
    """One client thread: each (application, expected score) as one request on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    for application, expected in jobs:
        if time.monotonic() > deadline:
            break
        body = server.body(application)
        began = time.perf_counter()
        try:
            connection.request("POST", server.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}")
            connection.close()
            continue
        took = time.perf_counter() - began
        if response.status != 200:
            out.errors.append(f"HTTP {response.status}: {payload[:200]!r}")
        elif abs(server.score(json.loads(payload)) - expected) > TOLERANCE:
            out.errors.append(f"score {server.score(json.loads(payload))} != {expected}")
        else:
            out.latencies.append(took)
    connection.close()


def run_load(
    server: Server, port: int, pid: int, cases: list[tuple[dict, float]], args: argparse.Namespace
) -> Load:
    """WARMUP requests, then REQUESTS from CONCURRENCY threads; wall time and server CPU."""
    send(server, port, cases[: args.warmup], time.monotonic() + args.time_limit, Load())
    jobs = [cases[i % len(cases)] for i in range(args.requests)]
    load = Load()
    deadline = time.monotonic() + args.time_limit
    threads = [
        threading.Thread(
            target=send, args=(server, port, jobs[i :: args.concurrency], deadline, load)
        )
        for i in range(args.concurrency)
    ]
    cpu = tree_cpu(pid)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - began
    load.cpu = tree_cpu(pid) - cpu
    return load


def prepare(repo: Path, rows: int) -> tuple[str, list[tuple[dict, float]]]:
    """Reproduce, commit, log + register with MLflow, score the rows with `kaizen predict`."""
    snapshot(repo)
    sh("dvc", "repro", "-q", cwd=repo)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-q", "--allow-empty", "-m", "bench", cwd=repo)
    uri = f"sqlite:///{repo / 'mlruns.db'}"
    kaizen = ("env", "PYTHONPATH=src", sys.executable, "-m", "kaizen")  # the copy's own code
    sh(*kaizen, "mlflow", "log", "--tracking-uri", uri, "--register", MODEL, cwd=repo)
    raw = pd.read_csv(repo / "data" / "raw" / "credit_data.csv", nrows=rows)
    schema = json.loads((repo / "models" / "model.json").read_text(encoding="utf-8"))["schema"]
    raw.to_csv(repo / "rows.csv", index=False)
    sh(*kaizen, "predict", "--input", "rows.csv", "--output", "scored.csv", cwd=repo)
    scores = pd.read_csv(repo / "scored.csv")["score"].tolist()
    features = raw[schema["numeric"] + schema["categorical"]].astype(object)
    records = features.where(features.notna(), None).to_dict(orient="records")
    return uri, list(zip(records, scores))


def row(server: Server, load: Load, requests: int) -> str:
    """One markdown table row."""
    done = len(load.latencies)
    if not done:
        return f"| {server.name} | 0 of {requests} | - | - | - | - | {len(load.errors)} |"
    p50, p99 = np.percentile(np.array(load.latencies) * 1000, [50, 99])
    return (
        f"| {server.name} | {done} of {requests} | {done / load.seconds:.0f} | {p50:.1f} | "
        f"{p99:.1f} | {load.cpu / done * 1000:.1f} | {len(load.errors)} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Measure each available server under the same load; print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per load run")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args(argv)
    environment()
    lines = [
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine()}; load average "
        f"{os.getloadavg()[0]:.1f} at the start (shared machine).",
        f"Code: commit {sh('git', 'rev-parse', '--short', 'HEAD', cwd=Path.cwd()).strip()}.",
        "Command: `make bench-mlflow` (`.venv/bin/python bench/mlflow_serve.py "
        f"--requests {args.requests} --concurrency {args.concurrency}`).",
        "",
        f"One application (the embedded data's first {ROWS} rows, cycled) per POST; "
        f"{args.warmup} warm-up requests first; {args.concurrency} client threads with keep-alive "
        "connections on the same machine. A request counts when it answers 200 with "
        "`kaizen predict`'s score.",
        "",
        "| server | requests answered | throughput (req/s) | p50 (ms) | p99 (ms) "
        "| server CPU per request (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-serve-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        uri, cases = prepare(repo, ROWS)
        port = free_port()
        servers = [mlflow_server(port, uri)]
        if kaizen_available():
            servers.append(kaizen_server(port))
        else:
            notes.append(
                "`kaizen serve`: not measured: this checkout's CLI has no `serve` command yet "
                "(the serving API is built on another branch); `kaizen_server()` in "
                "bench/mlflow_serve.py is where it joins this table."
            )
        for server in servers:
            process = start(server, port, repo, Path(tmp) / "server.log")
            try:
                load = run_load(server, port, process.pid, cases, args)
            finally:
                stop(process)
            lines.append(row(server, load, args.requests))
            notes += [f"{server.name}: first error: {load.errors[0]}"] if load.errors else []
    lines += ["", *notes]
    table = "\n".join(lines)
    print(table)
    if not args.no_readme:
        record("mlflow-serve", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
