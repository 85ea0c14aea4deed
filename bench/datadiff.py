"""Value-level data diff benchmark (issue 25): `reporting.valuediff` on two 1M-row files, streamed
in chunks, against what the report's whole data section costs. Prints a markdown results section and
writes it into bench/README.md between the `<!-- datadiff:start -->` / `<!-- datadiff:end -->`
markers.

The base is a SYNTHETIC 1M-row up-sample of credit_data (bench/pipeline.py's generator); the head
applies known edits to it (rows removed, rows added, a block moved, Income rescaled in the last
quarter, Home recoded and Debt set missing in random rows). Every measure runs in a fresh process
(wall time, CPU time and peak RSS from wait4), rounds alternated, and the diff's counts are
checked against the edits made, so that a fast wrong answer cannot pass.

    .venv/bin/python bench/datadiff.py                      # what `make bench-datadiff` runs
    .venv/bin/python bench/datadiff.py --rows 100000 --no-readme   # quick try
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
# pylint: disable=wrong-import-position  # after src/ is importable
from pipeline import machine, synthesize  # noqa: E402  # bench/pipeline.py
from results import record  # noqa: E402  # bench/results.py
from kaizen.reporting import rowmatch, valuediff  # noqa: E402
from kaizen.io.tables import NA_VALUES, TEXT, parse_raw  # noqa: E402

WORK = ROOT / "bench" / ".work" / "datadiff"
MODES = {
    "stream": "`valuediff.value_diff` on the two files streamed in 1 MB pyarrow blocks",
    "report": "the report's data section: `parse_raw` of both files, then `data_change` "
    "(value diff on the frames + distribution verdicts + split check)",
    "read": "`parse_raw` of both files alone (what the report holds before any comparison)",
    "start": "start-up alone: Python, pandas, pyarrow and `reporting.valuediff` imported, no row",
}


def csv_chunks(path: Path, rows: int = rowmatch.CHUNK_ROWS) -> rowmatch.Chunks:
    """A CSV as frames of text, as `kaizen.io.tables.read_raw` types them, `rows` at a time."""
    header = path.open(encoding="utf-8").readline().rstrip("\n").split(",")
    options = {
        "read_options": pcsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 20),
        "convert_options": pcsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.large_string()),
            null_values=NA_VALUES,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }

    def read():
        for batch in pcsv.open_csv(path, **options):
            frame = batch.to_pandas(types_mapper={pa.large_string(): TEXT}.get)
            for start in range(0, len(frame), rows):
                yield frame.iloc[start : start + rows]

    return read


def make_head(base_path: Path, head_path: Path, seed: int = 1) -> dict:
    """Write the edited head and return what a correct diff must count. Rows moved are not also
    edited: without a key such a row counts as removed and added, as in a line diff."""
    base = pd.read_csv(base_path)
    rng = np.random.default_rng(seed)
    n = len(base)
    moved = np.arange(n // 2, n // 2 + n // 1000)  # a block put back further down
    head = edited(base, rng, moved)
    removed = np.r_[np.arange(n // 10, n // 10 + n // 200), rng.choice(n, n // 200, replace=False)]
    kept = np.setdiff1d(np.arange(n), np.r_[removed, moved])
    kept = np.r_[kept[: n * 6 // 10], np.setdiff1d(moved, removed), kept[n * 6 // 10 :]]
    added = base.sample(n // 200, random_state=seed).assign(Age=120.0, Time=1.0, Amount=1.0)
    frame = pd.concat([head.iloc[kept[: n // 3]], added, head.iloc[kept[n // 3 :]]])
    frame.to_csv(head_path, index=False)
    changed = {}
    for name in base.columns:
        old, new = base[name].iloc[kept], head[name].iloc[kept]
        differ = (old != new) & ~(old.isna() & new.isna())
        if differ.any():
            changed[name] = int(differ.sum())
    return {"removed": len(np.unique(removed)), "added": len(added), "changed": changed}


def edited(base: pd.DataFrame, rng: np.random.Generator, moved: np.ndarray) -> pd.DataFrame:
    """Income x 1.1 in the last quarter; Home owner -> rent in 2 % and Debt set missing in 1 %
    of the rows, chosen at random outside the `moved` ones."""
    n = len(base)
    head = base.copy()
    late = head.index >= n * 3 // 4
    head.loc[late, "Income"] = (head.loc[late, "Income"] * 1.1).round(2)
    still = np.ones(n, bool)
    still[moved] = False
    owners = np.flatnonzero((base["Home"] == "owner").to_numpy() & still)
    head.loc[rng.choice(owners, n // 50, replace=False), "Home"] = "rent"
    debts = np.flatnonzero(base["Debt"].notna().to_numpy() & still)
    head.loc[rng.choice(debts, n // 100, replace=False), "Debt"] = np.nan
    return head


def run(mode: str, base: Path, head: Path) -> None:
    """One measured process: print the diff's counts and its phases as JSON."""
    started = time.perf_counter()
    if mode == "make":
        if not base.exists():
            synthesize(int(base.stem.split("-")[-1]), seed=0, path=base)
        print(json.dumps(make_head(base, head)))
        return
    if mode == "start":
        print("{}")
        return
    if mode == "read":
        frames = parse_raw(base.read_bytes(), base), parse_raw(head.read_bytes(), head)
        print(json.dumps({"rows": [len(frames[0]), len(frames[1])]}))
        return
    if mode == "report":
        # pylint: disable-next=import-outside-toplevel  # the report's own module, only here
        from kaizen.reporting.datadiff import Reading, data_change

        frames = parse_raw(base.read_bytes(), base), parse_raw(head.read_bytes(), head)
        read = time.perf_counter() - started
        values = data_change(str(head), *frames, Reading("Status", "bad")).values
        assert values is not None
        print(json.dumps({**counts(values), "read s": read}))
        return
    sides = csv_chunks(base), csv_chunks(head)
    columns = pd.read_csv(base, nrows=0).columns.tolist()
    hashed = rowmatch.hash_rows(sides[0], columns), rowmatch.hash_rows(sides[1], columns)
    hashing = time.perf_counter() - started
    values = valuediff.value_diff(*sides, columns, hashed=hashed)
    print(json.dumps({**counts(values), "hash s": hashing}))


def counts(values: valuediff.ValueDiff) -> dict:
    """What the check compares with the edits made."""
    return {
        "removed": values.removed,
        "added": values.added,
        "reordered": values.reordered,
        "changed": {edit.column: edit.rows for edit in values.edits},
        "lines": valuediff.value_lines(values),
    }


def timed(command: list[str]) -> tuple[dict, dict]:
    """Wall time, CPU time (user + sys) and peak RSS of one fresh process, and its JSON."""
    started = time.perf_counter()
    process = subprocess.Popen(  # pylint: disable=consider-using-with  # waited below
        command, stdout=subprocess.PIPE, text=True
    )
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(command)} failed")
    measure = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 2**20}
    return measure, json.loads(out)


def check(truth: dict, found: dict, mode: str) -> None:
    """The diff must count exactly the edits made (Income rows whose value stays, e.g. 0 x 1.1,
    are not edits)."""
    got = {key: found[key] for key in ("removed", "added", "changed")}
    if got != truth:
        sys.exit(f"bench: {mode} diff {got} differs from the edits made {truth}")


def section(args, runs: dict[str, list], result: dict) -> str:
    """The markdown results section."""

    def med(mode: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[mode])

    lines = [
        f"Date: {datetime.date.today()}. Machine: {machine()} (load average at start "
        f"{args.load:.1f}).",
        f"Command: `.venv/bin/python bench/datadiff.py` (`make bench-datadiff`); base: "
        f"{args.rows:,} SYNTHETIC rows (bench/pipeline.py's generator, {args.size:.0f} MB); "
        "head: the base with known edits (below); fresh process per measure, "
        f"{args.rounds} alternated rounds, medians shown.",
        "",
        "| measure (fresh process, imports included) | wall s | CPU s | peak RSS GB |",
        "|---|---:|---:|---:|",
    ]
    for mode, label in MODES.items():
        lines.append(
            f"| {label} | {med(mode, 'wall'):.2f} | {med(mode, 'cpu'):.2f} | "
            f"{med(mode, 'rss'):.2f} |"
        )
    lines += [
        "",
        f"Streamed diff, inside the process (wall): hashing both files {result['hash s']:.2f} "
        "s of the whole, then alignment and the two partial passes (column hashes of the "
        "unmatched rows, values of the changed cells). Edits made, and counted exactly by both "
        f"the streamed diff and the report (checked): {args.truth['removed']:,} rows removed "
        "(a block and scattered), "
        f"{args.truth['added']:,} added, a block of {args.rows // 1000:,} rows moved down, "
        f"Income x 1.1 from row {args.rows * 3 // 4 + 1:,} on, Home owner -> rent in "
        f"{args.rows // 50:,} and Debt set missing in {args.rows // 100:,} random rows (some of "
        "them removed since). The section it writes:",
        "",
        *result["lines"],
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, check, print, record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--run", nargs=3, metavar=("MODE", "BASE", "HEAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        run(args.run[0], Path(args.run[1]), Path(args.run[2]))
        return 0
    args.load = os.getloadavg()[0]
    WORK.mkdir(parents=True, exist_ok=True)
    base, head = WORK / f"base-{args.rows}.csv", WORK / f"head-{args.rows}.csv"
    # A child's peak RSS counts its parent's at fork: the parent never holds the data.
    _, args.truth = timed([sys.executable, __file__, "--run", "make", str(base), str(head)])
    args.size = base.stat().st_size / 2**20
    runs: dict[str, list] = {mode: [] for mode in MODES}
    result: dict = {}
    for _ in range(args.rounds):
        for mode in MODES:
            measure, found = timed([sys.executable, __file__, "--run", mode, str(base), str(head)])
            runs[mode].append(measure)
            if mode in ("stream", "report"):
                check(args.truth, found, mode)
            if mode == "stream":
                result = found
    text = section(args, runs, result)
    print(text)
    if not args.no_readme:
        record("datadiff", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
