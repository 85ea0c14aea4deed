"""What the git copy of the per-row scores costs: size on disk, compressed, and per commit.

evaluate writes `metrics/evaluate/scores/<part>.csv` (columns row, y, score to 6 digits) into git
and every row's score into a DVC-cached Parquet. The git copy is capped (`ROW_CAP` rows per part,
evenly spaced); this measures, for a range of row counts, the CSV's size, its zlib-compressed size
(how git stores a blob) and how much a commit of new scores adds to a packed repository (scores of
a retrained model share nothing with the last ones, so deltas barely help), to set that cap.

    .venv/bin/python bench/scores.py            # what `make bench-scores` runs
"""

from __future__ import annotations

import argparse
import datetime
import io
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from results import record  # bench/results.py (scripts run as bench/<name>.py)

SIZES = (5_000, 20_000, 50_000, 100_000, 1_000_000)
COMMITS = 5  # successive model versions committed, to measure the growth per commit


def scores_csv(rows: int, version: int) -> bytes:
    """A scores CSV like evaluate's: 1-based row ids (a sorted sample), 0/1 labels, 6 digits;
    the ids and labels stay, the scores change with the model `version`."""
    rng = np.random.default_rng(0)
    ids = np.sort(rng.choice(rows * 3, rows, replace=False)) + 1
    y = rng.random(rows) < 0.28
    noise = np.random.default_rng(version + 1).normal(-1.2, 1.4, rows)
    score = 1 / (1 + np.exp(-(noise + 1.5 * y)))
    frame = pd.DataFrame({"y": y.astype(int), "score": score.round(6)}, index=ids)
    frame.index.name = "row"
    buffer = io.StringIO()
    frame.to_csv(buffer)
    return buffer.getvalue().encode()


def git(*args: str, cwd: Path) -> str:
    """Output of a git command in `cwd`."""
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def pack_size(repo: Path) -> int:
    """Bytes of the repository's objects after `git gc` (everything packed)."""
    git("gc", "-q", "--aggressive", cwd=repo)
    return sum(p.stat().st_size for p in (repo / ".git" / "objects").rglob("*") if p.is_file())


def per_commit(rows: int, work: Path) -> float:
    """Mean growth of the packed repository per commit of a new model's scores (bytes)."""
    repo = work / f"repo-{rows}"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    sizes = []
    for version in range(COMMITS + 1):
        (repo / "test.csv").write_bytes(scores_csv(rows, version))
        git("add", "-A", cwd=repo)
        git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "v", cwd=repo)
        sizes.append(pack_size(repo))
    return (sizes[-1] - sizes[0]) / COMMITS


def main(argv: list[str] | None = None) -> int:
    """Measure, print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args(argv)
    lines = [
        f"Measured {datetime.date.today().isoformat()} with `make bench-scores` "
        "(`.venv/bin/python bench/scores.py`). SYNTHETIC scores shaped like evaluate's "
        "(`row,y,score`, 6 digits, 28 % positives); one part; the packed growth is the mean of "
        f"{COMMITS} commits of a new model's scores for the same rows, after "
        "`git gc --aggressive`.",
        "",
        "| rows per part | CSV MB | zlib MB (a git blob) | packed growth per commit MB |",
        "|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-scores-") as tmp:
        for rows in args.sizes:
            raw = scores_csv(rows, 0)
            packed = zlib.compress(raw, 6)  # git's default core.compression
            growth = per_commit(rows, Path(tmp))
            lines.append(
                f"| {rows:,} | {len(raw) / 1e6:.2f} | {len(packed) / 1e6:.2f} | "
                f"{growth / 1e6:.2f} |"
            )
    table = "\n".join(lines)
    print(table)
    if not args.no_readme:
        record("scores", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
