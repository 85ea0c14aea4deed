"""Pipeline benchmark: cold `make repro`, no-op `dvc repro`, per-stage time and peak RSS at scale.

Runs in a throw-away copy of the working tree (tracked and new, non-ignored files) that reuses the
project's .venv, prints a markdown results table and writes it into bench/README.md between the
`<!-- pipeline:start -->` / `<!-- pipeline:end -->` markers.

    .venv/bin/python bench/pipeline.py                      # what `make bench` runs
    .venv/bin/python bench/pipeline.py --sizes 5000 20000 --skip-cold --no-readme   # quick try

`--baseline REV` (make bench BASELINE=main) also runs cold `make repro` on a snapshot of the
git revision REV, alternating with the working tree (`--cold-runs` each), for a side-by-side
ratio on the same machine load. Both sides run every stage (their `dvc.lock` removed): in a plain
fresh clone DVC skips the stages whose outputs are all in git, which differs between revisions.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from results import record  # bench/results.py (scripts run as bench/<name>.py)

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
STAGES = ("ingest", "prepare", "train", "evaluate", "drift")  # dvc.yaml order
RSS_TARGET_GB = 3.0
RATIO_TARGET = 12.0
JITTER = 0.01  # relative noise on numeric values of the synthetic rows
SENTINEL = 99999999  # credit_data's missing-value code: kept exact, never jittered
REPRO = "make -o .venv/.installed-runtime repro"  # make never reinstalls the shared .venv


@dataclass
class Run:
    """Wall time (s), CPU time (user + sys, s), peak RSS (bytes) and exit code of a command."""

    seconds: float
    cpu: float
    peak_rss: int
    code: int


def environment() -> dict[str, str]:
    """The project's venv first on PATH, no DVC analytics, a fixed git identity."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env.update(
        {
            "DVC_NO_ANALYTICS": "1",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
    )
    return env


def measure(command: str, cwd: Path, log: Path) -> Run:
    """Run a shell command in a fresh process; wall time and peak RSS of it and its children."""
    with open(log, "ab") as out:
        out.write(f"$ {command}\n".encode())
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["bash", "-c", command], cwd=cwd, env=environment(), stdout=out, stderr=out
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss * 1024, proc.returncode)


def checked(run: Run, what: str, log: Path) -> Run:
    """Stop the benchmark, pointing at the log, when a measured command failed."""
    if run.code != 0:
        sys.exit(f"bench: {what} exited {run.code}; see {log}")
    return run


def git(*args: str, cwd: Path) -> str:
    """Output of a git command."""
    return subprocess.run(
        ["git", *args], cwd=cwd, env=environment(), capture_output=True, text=True, check=True
    ).stdout


def snapshot(target: Path) -> None:
    """Copy the working tree's tracked and new (non-ignored) files; commit them in a new repo."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "bench")):
        git(*args, cwd=target)


def synthesize(rows: int, seed: int, path: Path) -> None:
    """SYNTHETIC up-sample of credit_data: rows drawn with replacement, numeric values jittered."""
    base = pd.read_csv(ROOT / "data" / "raw" / "credit_data.csv")
    rng = np.random.default_rng(seed)
    frame = base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)
    for name in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[name]):
            values = frame[name].to_numpy(dtype="float64")
            noisy = np.round(values * (1 + JITTER * rng.standard_normal(rows)), 2)
            frame[name] = np.where(values == SENTINEL, values, noisy)
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def stage_commands(repo: Path, data_path: str) -> dict[str, str]:
    """Each stage's `cmd` from dvc.yaml with `${data.path}` filled in."""
    stages = yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {name: stages[name]["cmd"].replace("${data.path}", data_path) for name in STAGES}


def scale_repo(snap: Path, target: Path, data: Path) -> None:
    """A stage-runner folder: the snapshot's code and params, pointed at the synthetic data."""
    shutil.copytree(snap / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(snap / "dvc.yaml", target / "dvc.yaml")
    params = yaml.safe_load((snap / "params.yaml").read_text(encoding="utf-8"))
    params["data"].update({"path": str(data), "split": {"by": "share", "current": 0.3}})
    params["train"]["model"] = "logreg"
    (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def folder_bytes(path: Path) -> int:
    """Total size of the files under a folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def gb(size: int) -> str:
    """Bytes as GB with two decimals."""
    return f"{size / 1e9:.2f}"


def mb(size: int) -> str:
    """Bytes as MB with one decimal."""
    return f"{size / 1e6:.1f}"


def human(rows: int) -> str:
    """100000 -> 100k, 1000000 -> 1M."""
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows // 1000}k"


def archive(revision: str, target: Path) -> None:
    """The files of a git revision, committed in a new repository (like `snapshot`)."""
    listing = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, env=environment(), capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=listing.stdout, check=True)
    (target / ".venv").symlink_to(ROOT / ".venv")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "bench")):
        git(*args, cwd=target)


def cold_run(work: Path, name: str, fill, every_stage: bool = False) -> Run:
    """Cold `make repro` in a fresh copy made by `fill(folder)`; `every_stage`: without its
    dvc.lock, so that DVC runs every stage."""
    folder = work / name
    folder.mkdir()
    fill(folder)
    if every_stage:
        (folder / "dvc.lock").unlink(missing_ok=True)
    log = work / f"{name}.log"
    return checked(measure(REPRO, folder, log), "make repro", log)


def cold_and_noop(work: Path, noop_runs: int, baseline: str | None, runs: int) -> list[str]:
    """Cold `make repro` in fresh clones (alternating with `baseline` when given), then the
    median of no-op `dvc repro` runs."""
    cold = cold_run(work, "cold", snapshot)
    colds, bases = [], []
    for number in range(runs if baseline else 0):
        bases.append(cold_run(work, f"base-{number}", lambda f: archive(baseline, f), True))
        colds.append(cold_run(work, f"every-{number}", snapshot, True))
    snap, log = work / "cold", work / "noop.log"
    noop = [checked(measure("dvc repro", snap, log), "dvc repro", log) for _ in range(noop_runs)]
    wall = statistics.median(run.seconds for run in noop)
    cpu = statistics.median(run.cpu for run in noop)
    lines = [
        "| measure | wall time (s) | CPU time (s) | peak RSS (GB) | target |",
        "|---|---:|---:|---:|---|",
    ]
    lines.append(
        f"| cold `make repro` (fresh clone) | {cold.seconds:.1f} | {cold.cpu:.1f} | "
        f"{gb(cold.peak_rss)} | - |"
    )
    for label, runs_of in (("working tree", colds), (f"`{baseline}`", bases)) if baseline else ():
        lines.append(
            f"| cold `make repro`, every stage, {label}, median of {runs} | "
            f"{statistics.median(r.seconds for r in runs_of):.1f} | "
            f"{statistics.median(r.cpu for r in runs_of):.1f} | "
            f"{gb(max(r.peak_rss for r in runs_of))} | - |"
        )
    lines.append(
        f"| no-op `dvc repro`, median of {noop_runs} | {wall:.2f} | {cpu:.2f} | "
        f"{gb(max(run.peak_rss for run in noop))} | <= 2 s: {'met' if wall <= 2 else 'MISSED'} |"
    )
    if baseline:
        ratio = statistics.median(r.seconds for r in colds) / statistics.median(
            r.seconds for r in bases
        )
        ratio_cpu = statistics.median(r.cpu for r in colds) / statistics.median(
            r.cpu for r in bases
        )
        lines += [
            "",
            f"Cold `make repro`, every stage, working tree / `{baseline}`: wall {ratio:.2f}, CPU "
            f"{ratio_cpu:.2f} (runs alternated; target <= 2: "
            f"{'met' if max(ratio, ratio_cpu) <= 2 else 'MISSED'}).",
        ]
    return lines


def scale(work: Path, sizes: list[int], seed: int) -> list[str]:
    """Per-stage wall time and peak RSS on synthetic data, sizes interleaved stage by stage."""
    snap = work / "scale-code"
    snap.mkdir()
    snapshot(snap)
    cache = ROOT / "bench" / ".work" / "data"
    cache.mkdir(parents=True, exist_ok=True)
    folders, commands = {}, {}
    for rows in sizes:
        data = cache / f"credit_synthetic_{rows}_seed{seed}.csv"
        if not data.exists():
            synthesize(rows, seed, data)
        folders[rows] = work / f"scale-{rows}"
        scale_repo(snap, folders[rows], data)
        commands[rows] = stage_commands(folders[rows], str(data))
    results: dict[tuple[int, str], Run] = {}
    for stage in STAGES:
        for rows in sizes:
            log = work / f"scale-{rows}.log"
            results[rows, stage] = checked(
                measure(commands[rows][stage], folders[rows], log), f"{stage} ({rows} rows)", log
            )
    for rows in sizes:
        results[rows, "total"] = Run(
            sum(results[rows, s].seconds for s in STAGES),
            sum(results[rows, s].cpu for s in STAGES),
            max(results[rows, s].peak_rss for s in STAGES),
            0,
        )
    return scale_table(results, sizes) + output_sizes(folders)


def scale_table(results: dict, sizes: list[int]) -> list[str]:
    """Markdown table: one row per stage plus the total, one column group per size."""
    small, large = sizes[0], sizes[-1]
    ratio_name = f"t({human(large)})/t({human(small)})"
    head = "".join(
        f" {human(n)}: wall s | {human(n)}: CPU s | {human(n)}: peak RSS GB |" for n in sizes
    )
    lines = [
        f"| stage |{head} {ratio_name} wall | {ratio_name} CPU | targets |",
        "|---|" + "---:|---:|---:|" * len(sizes) + "---:|---:|---|",
    ]
    for stage in (*STAGES, "total"):
        runs = {n: results[n, stage] for n in sizes}
        ratio = runs[large].seconds / runs[small].seconds
        ratio_cpu = runs[large].cpu / runs[small].cpu
        ok = runs[large].peak_rss < RSS_TARGET_GB * 1e9 and ratio <= RATIO_TARGET
        cells = "".join(
            f" {runs[n].seconds:.1f} | {runs[n].cpu:.1f} | {gb(runs[n].peak_rss)} |" for n in sizes
        )
        lines.append(
            f"| {stage} |{cells} {ratio:.1f} | {ratio_cpu:.1f} | {'met' if ok else 'MISSED'} |"
        )
    return lines


def output_sizes(folders: dict[int, Path]) -> list[str]:
    """Size of the git-tracked evaluate folder per size, and its largest files at the top size."""
    totals = ", ".join(
        f"{human(n)}: {mb(folder_bytes(path / 'metrics' / 'evaluate'))} MB"
        for n, path in folders.items()
    )
    top = max(folders)
    folder = folders[top] / "metrics" / "evaluate"
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: -p.stat().st_size)
    largest = ", ".join(f"{p.relative_to(folder)} {mb(p.stat().st_size)}" for p in files[:4])
    return [
        "",
        f"Size of `metrics/evaluate/` (evaluate output, kept in git): {totals}. "
        f"Largest files at {human(top)} (MB): {largest}.",
    ]


def machine() -> str:
    """CPU model, core count and memory of this machine."""
    cpu = platform.processor() or "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        found = re.search(r"model name\s*:\s*(.+)", info.read_text(encoding="utf-8"))
        cpu = found.group(1).strip() if found else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}), {memory / 2**30:.0f} GiB RAM, Python {python}"


def main(argv: list[str] | None = None) -> int:
    """Run the measures, print the table, record it in bench/README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--noop-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--skip-cold", action="store_true", help="only the scale runs")
    parser.add_argument("--baseline", help="also time cold `make repro` of this git revision")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold runs of each side")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument("--keep", type=Path, help="new folder to run in and keep (default: temp)")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python bench/pipeline.py", *given])
    if os.environ.get("MAKELEVEL") and given in ([], ["--baseline", args.baseline]):
        command = "make bench" + (f" BASELINE={args.baseline}" if args.baseline else "")
    dirty = " (plus uncommitted changes)" if git("status", "--porcelain", cwd=ROOT).strip() else ""
    lines = [
        f"Date: {datetime.date.today().isoformat()}. Machine: {machine()}.",
        f"Code: commit {git('rev-parse', '--short', 'HEAD', cwd=ROOT).strip()}{dirty}.",
        f"Command: `{command}`.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-") as tmp:
        work = Path(tmp) if args.keep is None else args.keep.resolve()
        work.mkdir(exist_ok=True)
        if not args.skip_cold:
            lines += cold_and_noop(work, args.noop_runs, args.baseline, args.cold_runs) + [""]
        lines += [
            f"SYNTHETIC data: credit_data rows drawn with replacement (seed {args.seed}), numeric "
            f"values x (1 + {JITTER} N(0,1)); data.split: {{by: share, current: 0.3}}, "
            "train.model: logreg, "
            "other params as in params.yaml. One fresh process per stage (dvc.yaml `cmd`); peak "
            f"RSS from wait4. Targets: peak RSS < {RSS_TARGET_GB:.0f} GB at "
            f"{human(args.sizes[-1])} rows, t({human(args.sizes[-1])})/t({human(args.sizes[0])})"
            f" <= {RATIO_TARGET:.0f}.",
            "",
        ]
        lines += scale(work, sorted(args.sizes), args.seed)
    table = "\n".join(lines)
    print(table)
    if not args.no_readme:
        record("pipeline", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
