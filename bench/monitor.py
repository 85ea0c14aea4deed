"""`kaizen monitor` on large windows: 100k events in SQLite, 1M events in PostgreSQL 15.

Events are SYNTHETIC: rows of the current part drawn with replacement (seed 0), scored by the
repository's model, spread over the 7 days before a fixed `--until` in the order they are written
(as the API writes them), 30 % of them with an outcome (younger than the default 365-day outcome
window: counted, not judged). The store is filled through `predictions.insert` (the API's own
write path) in batches; PostgreSQL runs as in the tests (a temporary server on 127.0.0.1, as the
`postgres` user when run as root). Each monitor run is a fresh process running the checkout's
code: wall time, CPU time and peak RSS from wait4. The window read alone (`read_window`, the
monitor's first step) is timed in this process, best of 3, against the reader it replaced (SQL
extraction per field: tests/unit/events/old_window.py). Needs `make repro` first.

    .venv/bin/python bench/monitor.py [--rows-sqlite 100000] [--rows-postgres 1000000]
"""

from __future__ import annotations

# A report script: its measuring function is long and linear on purpose.
# pylint: disable=too-many-locals

import argparse
import datetime as dt
import json
import os
import statistics
import shlex
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np
import sqlalchemy as sa

from pipeline import ROOT, machine, measure  # bench/pipeline.py
from results import record  # bench/results.py

from kaizen.bundle import scoring
from kaizen.events import migrate, predictions, windows
from kaizen.events.engine import create_engine
from kaizen.events.predictions import PredictionRow
from kaizen.events.schema import FEEDBACK
from kaizen.io import files

sys.path.insert(0, str(ROOT))
# pylint: disable-next=wrong-import-position,import-error  # after the repository root
from tests.integration.conftest import temporary_postgres  # noqa: E402
from tests.unit.events import old_window  # noqa: E402  # pylint: disable=wrong-import-position

WORK = ROOT / "bench" / ".work" / "monitor"
UNTIL = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
BATCH = 10_000
RSS_TARGET_GB = 1.0
READ_TARGET_S = 0.4  # the 100k-event SQLite window read (issue 24)
EVIDENTLY_RATIO_TARGET = 0.3  # kaizen monitor's whole process / Evidently's (issue 24)
PAIRED_ROUNDS = 3
READERS = {
    "column-wise (events/windows.py)": windows,
    "SQL extraction per field (before)": old_window,
}


def events(model: scoring.Model, rows: int, seed: int = 0) -> Iterator[tuple[list, list]]:
    """Batches of (events, feedback rows) built like the API's."""
    current = files.read_parquet(ROOT / "data" / "ingest" / "current.parquet")
    features = current[model.schema.features]
    rng = np.random.default_rng(seed)
    for start in range(0, rows, BATCH):
        size = min(BATCH, rows - start)
        picked = features.iloc[rng.integers(0, len(features), size)]
        scores = model.scores(picked)
        labels = current[model.schema.target].to_numpy()[rng.integers(0, len(current), size)]
        records = picked.astype(object).where(picked.notna(), None).to_dict("records")
        written = (start + np.sort(rng.random(size)) * size) / rows  # in time order, as the API
        offsets = (1 - written) * 7 * 86400
        batch, feedback = [], []
        for index, (inputs, score, offset) in enumerate(zip(records, scores, offsets)):
            created = UNTIL - dt.timedelta(seconds=float(offset))
            prediction_id = str(uuid.UUID(int=start + index + 1))
            batch.append(
                {
                    "prediction_id": prediction_id,
                    "created_at": created,
                    "request_id": prediction_id,
                    "model_version": model.version,
                    "schema_version": model.schema_version,
                    "inputs": inputs,
                    "pii_fields": [],
                    "score": float(score),
                    "threshold": 0.2,
                    "decision": "refuse" if score >= 0.2 else "accept",
                    "reasons": [],
                    "unseen": {},
                    "latency_ms": 1.0,
                }
            )
            if rng.random() < 0.3:
                feedback.append(
                    {
                        "prediction_id": prediction_id,
                        "outcome": int(labels[index]),
                        "observed_at": created,
                        "received_at": created,
                    }
                )
        yield batch, feedback


def fill(db: str, model: scoring.Model, rows: int) -> float:
    """Create and fill a store; seconds taken."""
    started = time.perf_counter()
    engine = create_engine(db)
    migrate.upgrade(engine)
    for batch, feedback in events(model, rows):
        predictions.insert(engine, [PredictionRow(**event) for event in batch])
        with engine.begin() as conn:
            conn.execute(FEEDBACK.insert(), feedback)
    engine.dispose()
    return time.perf_counter() - started


def monitor_run(db: str, output: Path, log: Path, window: str = "--window 7d"):
    """One `kaizen monitor` (default `--window 7d`) in a fresh process, on the checkout's code."""
    command = (
        f"PYTHONPATH={shlex.quote(str(ROOT / 'src'))} {shlex.quote(sys.executable)} -m kaizen "
        f"monitor {window} --until {UNTIL.isoformat()} "
        f"--output {shlex.quote(str(output))} --db {shlex.quote(db)}"
    )
    run = measure(command, ROOT, log)
    if run.code not in (0, 2):
        sys.exit(f"bench: kaizen monitor exited {run.code}; see {log}")
    return run


def read_times(db: str, model: scoring.Model) -> dict[str, tuple[float, float, int]]:
    """Per reader: (best wall s, its CPU s, events) of reading the monitor's window, 3 times."""
    engine = create_engine(db)
    since = UNTIL - dt.timedelta(days=7)
    schema = model.schema
    found = {}
    try:
        for name, reader in READERS.items():
            best = (float("inf"), 0.0, 0)
            for _ in range(3):
                wall, cpu = time.perf_counter(), time.process_time()
                frame = reader.read_window(
                    engine, schema.numeric, schema.categorical, since=since, until=UNTIL
                )
                took = (time.perf_counter() - wall, time.process_time() - cpu, len(frame))
                best = min(best, took)
                del frame
            found[name] = best
    finally:
        engine.dispose()
    return found


def evidently_job(db: str, model: scoring.Model, last: int) -> Path:
    """Evidently's job file: the `--last` window's inputs and the reference part (the bundle's
    reference), as Parquet, every feature; Evidently's own default tests and thresholds."""
    schema = model.schema
    engine = create_engine(db)
    try:
        window = windows.read_window(
            engine, schema.numeric, schema.categorical, since=None, until=UNTIL, last=last
        )
    finally:
        engine.dispose()
    reference = files.read_parquet(ROOT / "data" / "ingest" / "reference.parquet")
    paths = {"reference": WORK / "reference.parquet", "current": WORK / "current.parquet"}
    reference[schema.features].to_parquet(paths["reference"])
    window[schema.features].to_parquet(paths["current"])
    job = {"name": "window", "numeric": schema.numeric, "categorical": schema.categorical}
    jobs = WORK / "evidently-jobs.json"
    jobs.write_text(json.dumps([{**job, **{k: str(v) for k, v in paths.items()}}]), "utf-8")
    return jobs


def paired(db: str, model: scoring.Model, python: str, last: int, log: Path) -> dict:
    """`kaizen monitor --last N` and Evidently's process, alternated; each one's runs."""
    jobs = evidently_job(db, model, last)
    out = WORK / "evidently-out.json"
    command = f"{shlex.quote(python)} bench/evidently_driver.py {jobs} {out}"
    runs: dict[str, list] = {"kaizen": [], "evidently": []}
    for index in range(PAIRED_ROUNDS):
        runs["kaizen"].append(monitor_run(db, WORK / f"last-{index}", log, f"--last {last}"))
        run = measure(command, ROOT, log)
        if run.code:
            sys.exit(f"bench: Evidently exited {run.code}; see {log}")
        runs["evidently"].append(run)
    return runs


def main() -> None:
    """Fill the stores, run the monitor, time the read, record the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-sqlite", type=int, default=100_000)
    parser.add_argument("--rows-postgres", type=int, default=1_000_000)
    parser.add_argument(
        "--evidently",
        default=str(ROOT / "bench" / ".work" / "evidently-venv" / "bin" / "python"),
        help="Evidently's venv python (make bench-monitor builds it from bench/evidently.lock)",
    )
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    if not Path(args.evidently).exists():
        sys.exit(f"bench: {args.evidently}: no Evidently venv (`make bench-monitor` builds it)")
    model = scoring.load(ROOT / "models" / "model.joblib")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    log = WORK / "log.txt"
    rows, reads = [], []
    load = os.getloadavg()[0]
    sqlite = str(WORK / "events.db")
    filled = fill(sqlite, model, args.rows_sqlite)
    runs = [monitor_run(sqlite, WORK / f"sqlite-{i}", log) for i in range(2)]
    rows.append(("SQLite", args.rows_sqlite, filled, runs))
    reads.append(("SQLite", read_times(sqlite, model)))
    versus = paired(sqlite, model, args.evidently, args.rows_sqlite, log)
    with temporary_postgres(missing=lambda reason: sys.exit(f"bench: {reason}")) as url:
        filled = fill(url, model, args.rows_postgres)
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size('postgres')").scalar_one()
        engine.dispose()
        runs = [monitor_run(url, WORK / f"postgres-{i}", log) for i in range(2)]
        rows.append(("PostgreSQL 15", args.rows_postgres, filled, runs))
        reads.append(("PostgreSQL 15", read_times(url, model)))
    lines = report(rows, reads, size, args, load) + against_evidently(versus, args.rows_sqlite)
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_readme:
        record("monitor", section)


def report(rows: list, reads: list, size: int, args: argparse.Namespace, load: float) -> list:
    """The README section: the monitor runs, then the window reads."""
    lines = [
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()} (2 shared cores, load "
        f"average {load:.1f} at the start: times are noisy). Command: "
        "`.venv/bin/python bench/monitor.py` (`make bench-monitor`, after `make repro`).",
        "",
        "SYNTHETIC events: current-part rows drawn with replacement, scored by the repository's "
        "model, spread over 7 days in the order they are written (as the API writes them), 30 % "
        "with an outcome (younger than the 365-day outcome window: counted, not judged). "
        "`kaizen monitor --window 7d` in a fresh process, twice per store (second run: history "
        "of one run); peak RSS from wait4. Target: the 1M-event PostgreSQL window under "
        f"{RSS_TARGET_GB:.0f} GB peak.",
        "",
        "| store | window events | fill (s) | run | wall (s) | CPU (s) | peak RSS (GB) | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, count, seconds, measured in rows:
        for index, run in enumerate(measured, 1):
            target = "–"
            if name.startswith("PostgreSQL"):
                target = "met" if run.peak_rss < RSS_TARGET_GB * 2**30 else "NOT met"
            lines.append(
                f"| {name} | {count:,} | {seconds:.0f} | {index} | {run.seconds:.1f} | "
                f"{run.cpu:.1f} | {run.peak_rss / 2**30:.2f} | {target} |"
            )
    lines += [
        "",
        f"PostgreSQL database size with {args.rows_postgres:,} events: {size / 2**30:.2f} GB.",
        "",
        "The window read alone (`read_window` on the same window, in the benchmark's process, "
        f"best of 3), against the reader it replaced. Target: 100k events from SQLite in "
        f"{READ_TARGET_S} s or less.",
        "",
        "| store | events read | reader | wall (s) | CPU (s) | target |",
        "|---|---:|---|---:|---:|---|",
    ]
    for name, measured in reads:
        for index, (reader, (wall, cpu, count)) in enumerate(measured.items()):
            target = "–"
            if name == "SQLite" and index == 0:
                target = "met" if wall <= READ_TARGET_S else "NOT met"
            lines.append(f"| {name} | {count:,} | {reader} | {wall:.2f} | {cpu:.2f} | {target} |")
    return lines


def against_evidently(runs: dict, last: int) -> list[str]:
    """The paired table: medians of each whole process, and the ratio of wall times."""
    medians = {
        name: [statistics.median(getattr(run, field) for run in measured) for field in FIELDS]
        for name, measured in runs.items()
    }
    ratio = medians["kaizen"][0] / medians["evidently"][0]
    cpu_ratio = medians["kaizen"][1] / medians["evidently"][1]
    verdict = "met" if ratio <= EVIDENTLY_RATIO_TARGET else "NOT met"
    labels = {
        "kaizen": f"`kaizen monitor --last {last:,}` (SQLite read, drift, estimated and realised "
        "performance, four report files)",
        "evidently": "Evidently 0.7: imports, the same inputs and the reference part from "
        "Parquet, `Report.run(DataDriftPreset)`",
    }
    lines = [
        "",
        f"Whole processes, paired on the SQLite store: {PAIRED_ROUNDS} alternated rounds, "
        f"medians. Target: kaizen's wall time <= {EVIDENTLY_RATIO_TARGET} x Evidently's.",
        "",
        "| process | wall (s) | CPU (s) | peak RSS (GB) |",
        "|---|---:|---:|---:|",
    ]
    for name, (wall, cpu, rss) in medians.items():
        lines.append(f"| {labels[name]} | {wall:.2f} | {cpu:.2f} | {rss / 2**30:.2f} |")
    lines += [
        "",
        f"kaizen / Evidently: **{ratio:.2f} x** wall ({verdict}), {cpu_ratio:.2f} x CPU.",
    ]
    return lines


FIELDS = ("seconds", "cpu", "peak_rss")


if __name__ == "__main__":
    main()
