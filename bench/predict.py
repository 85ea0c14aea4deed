"""Batch scoring benchmark: `kaizen predict` on 1M SYNTHETIC rows against pandas reading the
same CSV, alternated in one run. Prints a markdown results section and writes it into
bench/README.md between the `<!-- predict:start -->` / `<!-- predict:end -->` markers.

Both sides run as fresh processes (interpreter start-up and imports included, as a user pays
them), timed with their CPU time and peak RSS from wait4; the in-process time of
`pandas.read_csv` alone (no start-up) is reported beside them as the strict reference.

    .venv/bin/python bench/predict.py                       # what `make bench-predict` runs
    .venv/bin/python bench/predict.py --rows 100000 --no-readme   # quick try
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# pylint: disable=wrong-import-position  # after the repository root is importable
from pipeline import machine, synthesize  # noqa: E402  # bench/pipeline.py
from results import record  # noqa: E402  # bench/results.py

BUNDLE = ROOT / "models" / "bundle"
BIN = Path(sys.executable).parent
TARGET = 3.0  # issue 9: `kaizen predict` total time <= 3 x pandas reading the same CSV


def timed(command: list[str]) -> dict:
    """Wall time, CPU time (user + sys) and peak RSS of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(command)  # pylint: disable=consider-using-with  # waited below
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(command)} failed")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 2**20,  # KiB -> GiB
    }


def in_process_read(data: Path) -> float:
    """Seconds `pandas.read_csv` takes on `data` once pandas is imported, timed inside a process
    of its own (reading here would leave this process large, and a child's peak RSS counts the
    parent's memory at fork)."""
    code = "import sys, time, pandas; t = time.perf_counter(); pandas.read_csv(sys.argv[1]); "
    code += "print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True, check=True)
    return float(done.stdout)


def measure(data: Path, output: Path, rounds: int) -> dict[str, list]:
    """`rounds` alternated runs of each side."""
    predict = [str(BIN / "kaizen"), "predict", "--bundle", str(BUNDLE), "--input", str(data)]
    predict += ["--output", str(output)]
    read = [sys.executable, "-c", f"import pandas; pandas.read_csv({str(data)!r})"]
    runs: dict[str, list] = {"predict": [], "read": [], "read_in_process": [], "start": []}
    for _ in range(rounds):
        runs["read"].append(timed(read))
        runs["read_in_process"].append(in_process_read(data))
        runs["predict"].append(timed(predict))
        runs["start"].append(timed(START + [str(BUNDLE / "model.joblib")]))
    return runs


# What any scoring process pays before its first row: the imports `kaizen predict` needs and
# unpickling the model (which imports scikit-learn and SciPy), then an exit without teardown.
START = [
    sys.executable,
    "-c",
    "import os, sys, pandas, pyarrow.csv, kaizen.pipeline.data, joblib; joblib.load(sys.argv[1]); "
    "os._exit(0)",
]


def median(runs: list[dict], key: str) -> float:
    """Median of one measure over the rounds."""
    return statistics.median(run[key] for run in runs)


def report(args, runs: dict[str, list], output: Path) -> str:
    """The markdown section."""
    predict, read = runs["predict"], runs["read"]
    alone = statistics.median(runs["read_in_process"])
    ratio = median(predict, "wall") / median(read, "wall")
    strict = median(predict, "wall") / alone
    verdict = {True: "met", False: "missed"}
    lines = [
        f"Date: {datetime.date.today()}. Machine: {machine()} (load average at start "
        f"{args.load:.1f}).",
        f"Command: `.venv/bin/python bench/predict.py` (`make bench-predict`); {args.rows:,} "
        "SYNTHETIC rows (credit_data up-sampled by bench/pipeline.py's generator, "
        f"{args.size:.0f} MB), {args.rounds} alternated rounds, medians shown.",
        "",
        "| command (fresh process) | wall s | CPU s | peak RSS GB |",
        "|---|---:|---:|---:|",
        f"| `python -c 'import pandas; pandas.read_csv(FILE)'` | {median(read, 'wall'):.2f} | "
        f"{median(read, 'cpu'):.2f} | {median(read, 'rss'):.2f} |",
        f"| `kaizen predict --input FILE --output OUT` | {median(predict, 'wall'):.2f} | "
        f"{median(predict, 'cpu'):.2f} | {median(predict, 'rss'):.2f} |",
        f"| start-up alone: its imports and unpickling the model, no row | "
        f"{median(runs['start'], 'wall'):.2f} | {median(runs['start'], 'cpu'):.2f} | "
        f"{median(runs['start'], 'rss'):.2f} |",
        "",
        f"`kaizen predict` / pandas reading the file, both whole processes: **{ratio:.2f} x** "
        f"(target <= {TARGET:.0f} x: {verdict[ratio <= TARGET]}). Against `pandas.read_csv` "
        f"alone inside a warm process ({alone:.2f} s, no start-up or imports): {strict:.2f} x. "
        f"Output: {output.stat().st_size / 2**20:.0f} MB. The start-up alone is "
        f"{median(runs['start'], 'wall') / median(read, 'wall'):.2f} x pandas' whole run.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the section, record it in bench/README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)
    args.load = os.getloadavg()[0]
    if not BUNDLE.exists():
        sys.exit(f"bench: {BUNDLE} not found: run `make repro` first")
    work = ROOT / "bench" / ".work" / "predict"
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"applications-{args.rows}.csv"
    if not data.exists():
        synthesize(args.rows, seed=0, path=data)
    args.size = data.stat().st_size / 2**20
    output = work / "scored.csv"
    runs = measure(data, output, args.rounds)
    text = report(args, runs, output)
    print(text)
    if not args.no_readme:
        record("predict", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
