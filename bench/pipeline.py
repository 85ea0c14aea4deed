"""Pipeline benchmark: cold `make repro`, no-op `dvc repro` vs DVC's floor, per-stage time and
peak RSS at scale.

Runs in a throw-away copy of the working tree (tracked and new, non-ignored files) that reuses the
project's .venv, prints markdown results tables and writes them into bench/README.md between the
`<!-- pipeline:start -->` / `<!-- pipeline:end -->` and `<!-- noop:start -->` / `<!-- noop:end -->`
markers.

    .venv/bin/python bench/pipeline.py                      # what `make bench` runs
    .venv/bin/python bench/pipeline.py --noop-only          # what `make bench-noop` runs
    .venv/bin/python bench/pipeline.py --sizes 5000 20000 --skip-cold --no-readme   # quick try

The no-op `dvc repro` of the copy (every output up to date) alternates with the no-op `dvc repro`
of a one-stage repository the benchmark builds with the same dvc (DVC's floor: what any
repository pays), pair by pair; the median of the per-pair ratios is the figure to quote.

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
FLOOR_TARGET = 1.2  # no-op `dvc repro` of the repository / of the one-stage floor (issue 24)
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


def floor_repo(target: Path) -> None:
    """DVC's floor: a new repository with one stage (one dependency, one output), reproduced and
    committed, so that its `dvc repro` is a no-op like the project's."""
    target.mkdir()
    (target / "input.txt").write_text("floor\n", encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=target)
    log = target.parent / "floor.log"
    for command in (
        "dvc init -q",
        "dvc stage add -q -n copy -d input.txt -o output.txt 'cp input.txt output.txt'",
        "dvc repro -q",
    ):
        checked(measure(command, target, log), command, log)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "floor", cwd=target)


def untemplated(pipeline: dict, params: dict) -> None:
    """Replace every `${data.path}` of the stages with its value."""

    def fill(value):
        if isinstance(value, str):
            return value.replace("${data.path}", params["data"]["path"])
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    pipeline["stages"] = fill(pipeline["stages"])


def no_sections(pipeline: dict, _: dict) -> None:
    """Drop the top-level `metrics:` and `plots:` sections."""
    for key in ("metrics", "plots"):
        pipeline.pop(key, None)


def no_params(pipeline: dict, _: dict) -> None:
    """Drop every stage's `params:`."""
    for stage in pipeline["stages"].values():
        stage.pop("params", None)


def no_code_deps(pipeline: dict, _: dict) -> None:
    """Keep only the data dependencies (drop `src/…`)."""
    for stage in pipeline["stages"].values():
        stage["deps"] = [dep for dep in stage["deps"] if not dep.startswith("src/")]


# What a no-op pays for, removed one layer at a time from a copy of the reproduced repository
# (each edit on top of the ones before): where the time over DVC's floor goes.
LADDER = (
    ("without `${data.path}` templating", untemplated),
    ("... and without the `metrics:`/`plots:` sections", no_sections),
    ("... and without per-stage `params:`", no_params),
    ("... and without the code deps: stages, data deps, outs", no_code_deps),
)


def ladder(project: Path, work: Path) -> list[tuple[str, Path]]:
    """Copies of `project` simplified rung by rung; each `dvc commit -f` (no stage runs), so that
    its `dvc repro` is a no-op too."""
    log, rungs, source = work / "ladder.log", [], project
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    for number, (label, edit) in enumerate(LADDER):
        target = work / f"rung-{number}"
        shutil.copytree(source, target, symlinks=True)
        path = target / "dvc.yaml"
        pipeline = yaml.safe_load(path.read_text(encoding="utf-8"))
        edit(pipeline, params)
        path.write_text(yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8")
        checked(measure("dvc commit -f -q", target, log), f"dvc commit ({label})", log)
        rungs.append((label, target))
        source = target
    return rungs


def noop_vs_floor(project: Path, work: Path, pairs: int) -> list[str]:
    """No-op `dvc repro` of `project` and of each rung of its ladder, each run followed by one of
    a one-stage floor repository, round-robin after one warm-up each: medians, and the median
    (min-max) of the per-pair ratios."""
    floor, log = work / "floor", work / "noop.log"
    floor_repo(floor)
    repos = [("this repository", project), *ladder(project, work)]
    for _, folder in [*repos, ("floor", floor)]:
        checked(measure("dvc repro", folder, log), "dvc repro (warm-up)", log)
    runs: dict[str, list[tuple[Run, Run]]] = {label: [] for label, _ in repos}
    for _ in range(pairs):
        for label, folder in repos:
            runs[label].append(
                (
                    checked(measure("dvc repro", folder, log), f"dvc repro ({label})", log),
                    checked(measure("dvc repro", floor, log), "dvc repro (floor)", log),
                )
            )
    lines = [
        f"| no-op `dvc repro`, median of {pairs} | CPU time (s) | wall time (s) | "
        "/ floor, CPU: median (min-max) of pairs | / floor, wall |",
        "|---|---:|---:|---:|---:|",
    ]
    floors = [pair[1] for label in runs for pair in runs[label]]
    for label, pairs_of in runs.items():
        cpu = [a.cpu / b.cpu for a, b in pairs_of]
        wall = [a.seconds / b.seconds for a, b in pairs_of]
        lines.append(
            f"| {label} | {statistics.median(a.cpu for a, _ in pairs_of):.2f} | "
            f"{statistics.median(a.seconds for a, _ in pairs_of):.2f} | "
            f"{statistics.median(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f}) | "
            f"{statistics.median(wall):.2f} ({min(wall):.2f}-{max(wall):.2f}) |"
        )
    lines.append(
        f"| one-stage repository (DVC's floor), median of {len(floors)} | "
        f"{statistics.median(r.cpu for r in floors):.2f} | "
        f"{statistics.median(r.seconds for r in floors):.2f} | 1 | 1 |"
    )
    ours = runs["this repository"]
    wall = statistics.median(a.seconds / b.seconds for a, b in ours)
    cpu = statistics.median(a.cpu / b.cpu for a, b in ours)
    lines += [
        "",
        f"No-op / floor, this repository, pair by pair: wall {wall:.2f}, CPU {cpu:.2f}; "
        f"target <= {FLOOR_TARGET} (both): "
        f"{'met' if max(wall, cpu) <= FLOOR_TARGET else 'MISSED'}. "
        "Rungs: copies of the reproduced repository, each simplified further (`dvc commit -f`, "
        "no stage runs), to show where the time over the floor goes; not configurations to use.",
    ]
    return lines


def cold_table(work: Path, baseline: str | None, runs: int) -> list[str]:
    """Cold `make repro` in fresh clones (alternating with `baseline` when given); the first
    clone (`work/cold`) is left reproduced, for the no-op runs."""
    cold = cold_run(work, "cold", snapshot)
    colds, bases = [], []
    for number in range(runs if baseline else 0):
        bases.append(cold_run(work, f"base-{number}", lambda f: archive(baseline, f), True))
        colds.append(cold_run(work, f"every-{number}", snapshot, True))
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
    parser.add_argument("--noop-runs", type=int, default=10, help="no-op pairs vs the floor")
    parser.add_argument("--noop-only", action="store_true", help="only no-op vs the floor")
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
    if os.environ.get("MAKELEVEL") and given == ["--noop-only"]:
        command = "make bench-noop"
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
        noop = []
        if args.noop_only:
            reproduced = work / "cold"
            reproduced.mkdir()
            snapshot(reproduced)
            log = work / "cold.log"
            checked(measure(REPRO, reproduced, log), "make repro", log)
        elif not args.skip_cold:
            lines += cold_table(work, args.baseline, args.cold_runs) + [""]
        if not args.skip_cold:
            noop = lines[:4] + noop_vs_floor(work / "cold", work, args.noop_runs)
        if not args.noop_only:
            lines += scale_section(work, args)
    results = {"noop": noop} if args.noop_only else {"pipeline": lines, "noop": noop}
    for name, section in results.items():
        if section:
            print("\n".join(section), end="\n\n")
            if not args.no_readme:
                record(name, "\n".join(section))
    return 0


def scale_section(work: Path, args: argparse.Namespace) -> list[str]:
    """The scale runs' description and tables."""
    return [
        f"SYNTHETIC data: credit_data rows drawn with replacement (seed {args.seed}), numeric "
        f"values x (1 + {JITTER} N(0,1)); data.split: {{by: share, current: 0.3}}, "
        "train.model: logreg, "
        "other params as in params.yaml. One fresh process per stage (dvc.yaml `cmd`); peak "
        f"RSS from wait4. Targets: peak RSS < {RSS_TARGET_GB:.0f} GB at "
        f"{human(args.sizes[-1])} rows, t({human(args.sizes[-1])})/t({human(args.sizes[0])})"
        f" <= {RATIO_TARGET:.0f}.",
        "",
    ] + scale(work, sorted(args.sizes), args.seed)


if __name__ == "__main__":
    sys.exit(main())
