"""Serving benchmark: the API on a real uvicorn on 127.0.0.1, with the trained model
(models/model.joblib, `make repro` first). Prints a markdown results section and writes it into
bench/README.md between the `<!-- serve:start -->` / `<!-- serve:end -->` markers.

- single applications from 8 concurrent clients: throughput and p50/p99 latency with the durable
  store (SQLite, WAL, synchronous=FULL) and without it (the same server with its store's write
  replaced by a no-op), alternated in the same run;
- 1,000-row batches through the API (store on): rows/s;
- the same single-application load on SQLite and on PostgreSQL 15 (a temporary server).

`kaizen predict` (batch scoring of a CSV) is measured by bench/predict.py.

    .venv/bin/python bench/serve.py                       # what `make bench-serve` runs
    .venv/bin/python bench/serve.py --requests 500 --no-readme   # quick try
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# pylint: disable=wrong-import-position  # after the repository root is importable
from pipeline import machine  # noqa: E402  # bench/pipeline.py
from results import record  # noqa: E402  # bench/results.py
from kaizen.events import predictions  # noqa: E402
from kaizen.events.engine import create_engine  # noqa: E402
from tests.integration.conftest import temporary_postgres  # noqa: E402
from tests.integration.test_serving import Load, Server  # noqa: E402

BUNDLE = ROOT / "models" / "bundle"
BIN = Path(sys.executable).parent
CLIENTS = 8
APPLICATION = {
    "Seniority": 9,
    "Home": "rent",
    "Time": 60,
    "Age": 30,
    "Marital": "married",
    "Records": "no",
    "Job": "freelance",
    "Expenses": 73,
    "Income": 129.0,
    "Assets": 0.0,
    "Debt": 0.0,
    "Amount": 800,
    "Price": 846,
}
THROUGHPUT_TARGET, BATCH_TARGET = 0.7, 20_000


def server(db: str, store: bool = True) -> Server:
    """A started server on the trained model; without `store`, events are not written."""
    argv = None
    if not store:
        argv = [sys.executable, __file__, "--serve-without-store"]
    started = Server({"KAIZEN_BUNDLE": str(BUNDLE), "KAIZEN_DB": db}, argv)
    if argv is not None:
        started.argv += ["--port", str(started.port)]
    return started.start()


def initialised(db: str) -> str:
    """`kaizen events init` on `db`."""
    subprocess.run([str(BIN / "kaizen"), "events", "init", "--db", db], check=True)
    return db


def load(port: int, requests: int, rows: int = 1, clients: int = CLIENTS) -> dict:
    """Requests of `rows` applications from `clients` clients: requests/s, rows/s, p50, p99."""
    body = {"applications": [APPLICATION] * rows}
    started = time.perf_counter()
    done = Load(port, clients, requests // clients, body).run().join()
    seconds = time.perf_counter() - started
    if done.errors:
        sys.exit(f"bench: {len(done.errors)} errors, e.g. {done.errors[0]}")
    cuts = statistics.quantiles(done.seconds, n=100)
    return {
        "rps": len(done.seconds) / seconds,
        "rows_s": len(done.seconds) * rows / seconds,
        "p50": cuts[49] * 1000,
        "p99": cuts[98] * 1000,
    }


def best(runs: list[dict]) -> dict:
    """The median run by throughput (runs alternate, so both sides see the same load)."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def store_on_off(work: Path, requests: int, rounds: int, clients: int) -> tuple[dict, dict]:
    """Alternate store-on and store-off servers, `rounds` times each."""
    on, off = [], []
    for index in range(rounds):
        for store, runs in ((True, on), (False, off)):
            db = initialised(str(work / f"onoff-{clients}-{index}-{store}.db"))
            started = server(db, store)
            try:
                load(started.port, 200, clients=clients)  # warm-up
                runs.append(load(started.port, requests, clients=clients))
            finally:
                started.stop()
            if (stored_count(db) > 0) != store:
                sys.exit(f"bench: store {'on' if store else 'off'} but {stored_count(db)} events")
    return best(on), best(off)


def stored_count(db: str) -> int:
    """Events in the store (the store-off server must have written none)."""
    engine = create_engine(db)
    try:
        return predictions.count(engine)
    finally:
        engine.dispose()


def batches(work: Path, count: int) -> dict:
    """1,000-row batches from 2 clients, store on."""
    started = server(initialised(str(work / "batches.db")))
    try:
        load(started.port, 2, rows=1000, clients=2)  # warm-up
        return load(started.port, count, rows=1000, clients=2)
    finally:
        started.stop()


def sqlite_vs_postgres(work: Path, requests: int) -> tuple[dict, dict | str]:
    """The same single-application load on both stores."""
    started = server(initialised(str(work / "sqlite.db")))
    try:
        load(started.port, 200)
        sqlite = load(started.port, requests)
    finally:
        started.stop()

    def missing(reason: str) -> None:
        raise RuntimeError(reason)

    try:
        with temporary_postgres(missing) as url:
            started = server(initialised(url))
            try:
                load(started.port, 200)
                return sqlite, load(started.port, requests)
            finally:
                started.stop()
    except RuntimeError as exc:
        return sqlite, f"not measured: {exc}"


def report(args, onoff, batch, stores) -> str:
    """The markdown section."""
    sqlite, postgres = stores
    verdict = {True: "met", False: "missed"}
    lines = [
        f"Date: {datetime.date.today()}. Machine: {machine()}, shared with other work "
        f"(load average at start {args.load:.1f}).",
        "Command: `.venv/bin/python bench/serve.py` (`make bench-serve`); "
        f"{args.requests} single-application requests per measurement (http.client keep-alive "
        "clients on the same machine), after 200 warm-up requests; "
        f"{args.rounds} alternating rounds of store on / off, median round shown; "
        f"{args.batches} requests of 1,000 applications from 2 clients after 2 warm-up ones. "
        "Each client encodes its request body once and parses every response.",
        "",
        "| measure | requests/s | rows/s | p50 ms | p99 ms | target |",
        "|---|---:|---:|---:|---:|---|",
    ]

    def row(name, r, target=""):
        return (
            f"| {name} | {r['rps']:.0f} | {r['rows_s']:.0f} | {r['p50']:.1f} | "
            f"{r['p99']:.1f} | {target} |"
        )

    for clients, (on, off) in onoff.items():
        ratio = on["rps"] / off["rps"]
        lines.append(row(f"single application, {clients} clients, store off", off))
        target = f"on/off >= 0.7: {ratio:.2f}, {verdict[ratio >= THROUGHPUT_TARGET]}"
        lines.append(row(f"single application, {clients} clients, store on (SQLite)", on, target))
    target = f">= 20,000 rows/s: {verdict[batch['rows_s'] >= BATCH_TARGET]}"
    lines.append(row("1,000-row batches, 2 clients, store on", batch, target))
    lines.append(row(f"single application, {CLIENTS} clients, SQLite store", sqlite))
    if isinstance(postgres, str):
        lines.append(f"| single application, PostgreSQL 15 store | {postgres} | | | | |")
    else:
        lines.append(row(f"single application, {CLIENTS} clients, PostgreSQL 15 store", postgres))
    return "\n".join(lines) + "\n"


def serve_without_store(port: str) -> None:
    """The comparison server: everything as served, except that events are not written."""
    # pylint: disable=import-outside-toplevel  # only in the child process
    from kaizen import cli

    predictions.insert = lambda engine, rows: None  # the one difference (every write goes here)
    sys.exit(cli.main(["serve", "--host", "127.0.0.1", "--port", port]))


def main(argv: list[str] | None = None) -> int:
    """Run every measurement, print the section, record it in bench/README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--serve-without-store", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.load = os.getloadavg()[0]
    if args.serve_without_store:
        serve_without_store(args.port)
    if not BUNDLE.exists():
        sys.exit(f"bench: {BUNDLE} not found: run `make repro` first")
    work = ROOT / "bench" / ".work" / "serve"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        scratch = Path(tmp)
        onoff = {n: store_on_off(scratch, args.requests, args.rounds, n) for n in (CLIENTS, 32)}
        batch = batches(scratch, args.batches)
        stores = sqlite_vs_postgres(scratch, args.requests)
    text = report(args, onoff, batch, stores)
    print(text)
    if not args.no_readme:
        record("serve", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
