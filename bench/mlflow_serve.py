"""Serving benchmark: the same registered model behind `kaizen serve` (its event store on: every
event committed to SQLite before the answer) and behind `mlflow models serve` (no store), under
the same load from this script, in the same run: throughput, p50/p99 latency and server CPU per
request (issue 12's target: Kaizen >= MLflow's throughput while logging every event).

In a throw-away copy of the working tree on the full embedded data: `dvc repro`, commit, `kaizen
mlflow log --register credit` into a local sqlite store, `kaizen predict` on the rows sent (the
expected scores), `kaizen events init`. Both servers then start on 127.0.0.1 (one uvicorn worker
each, both up for the whole run) and get WARMUP requests each; then the load is split into ROUNDS
rounds, each sending the same one-row POSTs from CONCURRENCY threads on keep-alive connections to
one server, then to the other, in alternating order (AB, BA, ...), so that a change in the
machine's load falls on both. Every answer is checked (HTTP 200, one score equal to `kaizen
predict`'s), and Kaizen's store must hold one event per request answered. The load generator
shares the machine's cores with the server: compare servers measured in one run, not absolute
numbers. Writes into bench/README.md between `<!-- mlflow-serve:start -->` /
`<!-- mlflow-serve:end -->`.

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
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import psutil

from pipeline import machine  # bench/pipeline.py (scripts run as bench/<name>.py)
from results import record
from sweep import environment, sh, snapshot

ROWS = 200  # distinct applications sent, cycled
STARTUP_SECONDS = 180
MODEL = "credit"  # registered model name
KAIZEN_BUNDLE = "models/bundle"  # its model.joblib is what `kaizen mlflow log` registers
EVENTS = "events.db"  # kaizen serve's store, in the temporary repository
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


def kaizen_server(port: int, db: str) -> Server:
    """`kaizen serve` (this copy's code) on the model file MLflow registered, its event store on
    `db`: every decision is committed there before the answer is sent."""
    return Server(
        name="`kaizen serve` (event store on: SQLite, every event committed before the answer; "
        "1 uvicorn worker)",
        command=[
            *(sys.executable, "-m", "kaizen", "serve", "--bundle", KAIZEN_BUNDLE, "--db", db),
            *("--host", "127.0.0.1", "--port", str(port)),
        ],
        env={"PYTHONPATH": "src"},  # the copy's own code, as in prepare()
        ready="/ready",  # 200 once the model is loaded and the store answers
        path="/predict",
        body=lambda row: json.dumps({"applications": [row]}).encode(),
        score=lambda answer: float(answer["predictions"][0]["score"]),
    )


def stored_events(db: Path) -> int:
    """How many prediction events the store holds."""
    with closing(sqlite3.connect(db)) as connection:
        return connection.execute("SELECT count(*) FROM predictions").fetchone()[0]


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


def run_round(
    target: tuple[Server, int, int], jobs: list[tuple[dict, float]], args, out: Load
) -> None:
    """`jobs` from CONCURRENCY threads to (server, port, pid); adds wall time and server CPU
    to `out`."""
    server, port, pid = target
    deadline = time.monotonic() + args.time_limit / args.rounds
    threads = [
        threading.Thread(
            target=send, args=(server, port, jobs[i :: args.concurrency], deadline, out)
        )
        for i in range(args.concurrency)
    ]
    cpu = tree_cpu(pid)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.seconds += time.perf_counter() - began
    out.cpu += tree_cpu(pid) - cpu


def measure(
    servers: list[tuple[Server, int, int]], cases: list[tuple[dict, float]], args
) -> list[Load]:
    """WARMUP requests to each (server, port, pid), then REQUESTS to each in ROUNDS rounds, the
    same requests to both in a round, in alternating order."""
    for server, port, _ in servers:
        send(server, port, cases[: args.warmup], time.monotonic() + args.time_limit, Load())
    jobs = [cases[i % len(cases)] for i in range(args.requests)]
    loads = [Load() for _ in servers]
    for turn in range(args.rounds):
        part = jobs[turn * len(jobs) // args.rounds : (turn + 1) * len(jobs) // args.rounds]
        order = list(zip(servers, loads))
        for target, load in order if turn % 2 == 0 else order[::-1]:
            run_round(target, part, args, load)
    return loads


def prepare(repo: Path, rows: int) -> tuple[str, list[tuple[dict, float]]]:
    """Reproduce, commit, log + register with MLflow, score the rows with `kaizen predict`,
    create `kaizen serve`'s event store."""
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
    sh(*kaizen, "events", "init", "--db", EVENTS, cwd=repo)
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
    """Measure both servers under the same load, alternated; print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per server")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4, help="alternations (AB, BA, ...)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per server")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args(argv)
    environment()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-serve-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        uri, cases = prepare(repo, ROWS)
        ports = free_port(), free_port()
        servers = [kaizen_server(ports[0], EVENTS), mlflow_server(ports[1], uri)]
        started: list[tuple[Server, int, subprocess.Popen]] = []
        try:
            for server, port in zip(servers, ports):
                log = Path(tmp) / f"server-{port}.log"
                started.append((server, port, start(server, port, repo, log)))
            loads = measure([(s, port, process.pid) for s, port, process in started], cases, args)
            events = stored_events(repo / EVENTS)
        finally:
            for _, _, process in started:
                stop(process)
    load_after = os.getloadavg()[0]
    lines = [
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine()}; load average (1 min) "
        f"{load_before:.1f} at the start, {load_after:.1f} at the end (shared machine).",
        f"Code: commit {sh('git', 'rev-parse', '--short', 'HEAD', cwd=Path.cwd()).strip()}.",
        "Command: `make bench-mlflow` (`.venv/bin/python bench/mlflow_serve.py "
        f"--requests {args.requests} --concurrency {args.concurrency} --rounds {args.rounds}`).",
        "",
        f"One application (the embedded data's first {ROWS} rows, cycled) per POST, the same "
        f"rows to both servers; {args.warmup} warm-up requests each; then {args.requests} "
        f"requests per server in {args.rounds} rounds alternating the servers (AB, BA, ...), "
        f"{args.concurrency} client threads with keep-alive connections on the same machine. A "
        "request counts when it answers 200 with `kaizen predict`'s score.",
        "",
        "| server | requests answered | throughput (req/s) | p50 (ms) | p99 (ms) "
        "| server CPU per request (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(row(server, load, args.requests) for server, load in zip(servers, loads)),
        "",
        f"Events in `kaizen serve`'s store after the run: {events} (warm-up + answered: "
        f"{args.warmup + len(loads[0].latencies)}).",
        *(
            f"{server.name}: first error: {load.errors[0]}"
            for server, load in zip(servers, loads)
            if load.errors
        ),
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_readme:
        record("mlflow-serve", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
