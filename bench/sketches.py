"""`kaizen monitor --window 30d` exact vs sketch (monitor.mode) on 1M and 10M events in SQLite.

Events are SYNTHETIC: a pool of 20,000 applications (current-part rows drawn with replacement,
seed 0) scored once by the repository's model; each event picks one from the pool, events spread
evenly over the 30 days before a fixed `--until` in time order (as the API writes them), 30 %
with an outcome. The store is made by `kaizen.events.migrate` and then filled by bulk inserts
through sqlite3 (executemany of 100,000 rows per transaction, synchronous off while filling) in
the API's own column formats: 10M events through the API's write path would take hours here.
Each measured command is a fresh process on the checkout's code; wall time, CPU time and peak
RSS from wait4. Per store: the exact monitor; `kaizen events profile` (the one-off build of the
30 daily profiles, which a nightly job does one day at a time); the sketch monitor merging them.
Also the join of the window's 30 stored daily profiles alone, in a fresh measured process.
Needs `make repro` first.

    .venv/bin/python bench/sketches.py [--sizes 1000000 10000000] [--no-readme]
"""

from __future__ import annotations

# A report script: its measuring function is long and linear on purpose.
# pylint: disable=too-many-locals

import argparse
import datetime as dt
import os
import shlex
import shutil
import sqlite3
import sys
import time
import uuid

import numpy as np
import orjson
import yaml

from pipeline import ROOT, machine, measure  # bench/pipeline.py
from results import record  # bench/results.py

from kaizen.bundle import artifact, scoring
from kaizen.commands import sketching
from kaizen.commands.monitor import load_reference
from kaizen.events import migrate
from kaizen.events.engine import create_engine
from kaizen.events.schema import RUNS, SIGNALS
from kaizen.io import files

WORK = ROOT / "bench" / ".work" / "sketches"
UNTIL = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
DAYS = 30
POOL = 20_000
CHUNK = 100_000
THRESHOLD = 0.2
EVENT = (
    "INSERT INTO predictions (prediction_id, created_at, request_id, model_version, "
    "schema_version, inputs, pii_fields, score, threshold, decision, reasons, unseen, "
    "latency_ms) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, '[]', '{}', 1.0)"
)
OUTCOME = "INSERT INTO feedback VALUES (?, ?, ?, ?)"


def pool(model: scoring.Model) -> tuple[list[str], np.ndarray, np.ndarray]:
    """POOL applications as stored JSON, their scores and outcomes."""
    current = files.read_parquet(ROOT / "data" / "ingest" / "current.parquet")
    rng = np.random.default_rng(0)
    picked = current.iloc[rng.integers(0, len(current), POOL)].reset_index(drop=True)
    features = picked[model.schema.features]
    scores = model.scores(features)
    records = features.astype(object).where(features.notna(), None).to_dict("records")
    inputs = [
        orjson.dumps(
            {k: (float(v) if isinstance(v, (int, float, np.number)) else v) for k, v in r.items()}
        ).decode()
        for r in records
    ]
    return inputs, np.asarray(scores, dtype="float64"), picked[model.schema.target].to_numpy()


def fill(path: str, model: scoring.Model, rows: int) -> float:
    """A store of `rows` synthetic events over the DAYS before UNTIL; seconds taken."""
    started = time.perf_counter()
    engine = create_engine(path)
    migrate.upgrade(engine)
    engine.dispose()
    inputs, scores, labels = pool(model)
    rng = np.random.default_rng(1)
    start = np.datetime64(UNTIL.replace(tzinfo=None) - dt.timedelta(days=DAYS), "us")
    step = DAYS * 86_400_000_000 // rows
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    for first in range(0, rows, CHUNK):
        index = np.arange(first, min(first + CHUNK, rows))
        which = rng.integers(0, POOL, index.size)
        times = np.char.replace(np.datetime_as_string(start + index * step, unit="us"), "T", " ")
        ids = [str(uuid.UUID(int=int(i) + 1)) for i in index]
        chunk_scores = scores[which]
        decisions = np.where(chunk_scores >= THRESHOLD, "refuse", "accept")
        with conn:
            conn.executemany(
                EVENT,
                zip(
                    ids,
                    times.tolist(),
                    ids,
                    [model.version] * index.size,
                    [model.schema_version] * index.size,
                    [inputs[w] for w in which],
                    chunk_scores.tolist(),
                    [THRESHOLD] * index.size,
                    decisions.tolist(),
                ),
            )
            told = np.flatnonzero(rng.random(index.size) < 0.3)
            conn.executemany(
                OUTCOME,
                ((ids[i], int(labels[which[i]]), times[i], times[i]) for i in told.tolist()),
            )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def kaizen(args: str, params: str, log):
    """One kaizen command in a fresh process, on the checkout's own code."""
    command = (
        f"PYTHONPATH={shlex.quote(str(ROOT / 'src'))} {shlex.quote(sys.executable)} -m kaizen "
        f"--params {shlex.quote(params)} {args}"
    )
    run = measure(command, ROOT, log)
    if run.code not in (0, 2):
        sys.exit(f"bench: `{args}` exited {run.code}; see {log}")
    return run


def params_file(mode: str) -> str:
    """params.yaml with monitor.mode set; its path."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["monitor"]["mode"] = mode
    path = WORK / f"params-{mode}.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def merge_alone(path: str) -> None:
    """Join the window's stored daily profiles (run in its own measured process)."""
    engine = create_engine(path)
    bundle = artifact.load(ROOT / "models" / "bundle")
    params = bundle.monitoring()
    reference = load_reference(bundle.info, bundle.test_scores(), (), bundle.threshold)
    source = sketching.Source(
        engine,
        bundle,
        reference,
        list(bundle.model.schema.numeric),
        params.monitor.outcome_window_days,
        params.monitor.sketch_k,
    )
    days = sketching.complete_days(UNTIL - dt.timedelta(days=DAYS), UNTIL, UNTIL)
    joined = sketching.window_summary(source, days[0], days[-1] + dt.timedelta(days=1), UNTIL)
    print(joined.rows, len(joined.columns))
    engine.dispose()


def forget_runs(path: str) -> None:
    """Delete the store's monitor runs: a run sees the previous run's breaches (its persistence
    rule raises a second breach to critical), so each mode's run must start from none."""
    engine = create_engine(path)
    with engine.begin() as conn:
        conn.execute(SIGNALS.delete())
        conn.execute(RUNS.delete())
    engine.dispose()


def main() -> None:
    """Fill each store, run exact, profile, sketch; record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--merge-only", help=argparse.SUPPRESS)  # the measured merge's process
    args = parser.parse_args()
    if args.merge_only:
        merge_alone(args.merge_only)
        return
    model = scoring.load(ROOT / "models" / "model.joblib")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    log = WORK / "log.txt"
    exact, sketch = params_file("exact"), params_file("sketch")
    window = f"--window {DAYS}d --until {UNTIL.isoformat()}"
    load = os.getloadavg()[0]
    rows = []
    for size in args.sizes:
        path = str(WORK / f"events-{size}.db")
        filled = fill(path, model, size)
        gigabytes = os.path.getsize(path) / 2**30
        out = WORK / f"out-{size}"
        runs = {"exact": kaizen(f"monitor {window} --output {out}/exact --db {path}", exact, log)}
        forget_runs(path)  # the sketch run judged like the exact one: no earlier breach
        runs |= {
            "profile": kaizen(
                f"events profile --since {(UNTIL - dt.timedelta(days=DAYS)).isoformat()} "
                f"--until {UNTIL.isoformat()} --db {path}",
                sketch,
                log,
            ),
            "sketch": kaizen(f"monitor {window} --output {out}/sketch --db {path}", sketch, log),
        }
        merged = measure(
            f"PYTHONPATH={shlex.quote(str(ROOT / 'src'))} {shlex.quote(sys.executable)} "
            f"bench/sketches.py --merge-only {shlex.quote(path)}",
            ROOT,
            log,
        )
        rows.append((size, filled, gigabytes, runs, merged))
        print(rows[-1], flush=True)
        os.remove(path)
    section = "\n".join(report(rows, load)) + "\n"
    print(section)
    if not args.no_readme:
        record("sketches", section)


def report(rows: list, load: float) -> list[str]:
    """The README section."""
    lines = [
        f"Date: {dt.date.today().isoformat()}. Machine: {machine()} (2 cores shared with other "
        f"jobs, load average {load:.1f} at the start: times are noisy). Command: "
        "`.venv/bin/python bench/sketches.py` (after `make repro`).",
        "",
        "| events (SQLite) | fill (s) | store (GB) | command | wall (s) | CPU (s) | "
        "peak RSS (GB) |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    names = {
        "exact": "`monitor` exact",
        "profile": "`events profile` (30 days, one-off)",
        "sketch": "`monitor` sketch (profiles stored)",
    }
    for size, filled, gigabytes, runs, _ in rows:
        for key, run in runs.items():
            lines.append(
                f"| {size:,} | {filled:.0f} | {gigabytes:.2f} | {names[key]} | {run.seconds:.1f} "
                f"| {run.cpu:.1f} | {run.peak_rss / 2**30:.2f} |"
            )
    lines += [
        "",
        "The join of the window's 30 stored daily profiles alone (`window_summary`, a fresh "
        "process: imports and the loaded bundle included):",
        "",
        "| events | wall (s) | peak RSS (GB) |",
        "|---:|---:|---:|",
    ]
    for size, _, _, _, run in rows:
        lines.append(f"| {size:,} | {run.seconds:.1f} | {run.peak_rss / 2**30:.2f} |")
    return lines


if __name__ == "__main__":
    main()
