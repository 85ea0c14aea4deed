"""The performance estimate's ±1 s.e. band on the default data: does it cover the realised
ROC AUC as often as it claims (68 %)? Target (issue 20): 60-76 % over resampled windows of the
current part.

Windows are drawn with replacement from the current part (1,975 rows with outcomes; seed 0),
scored by the bundle's model; each gets the estimate `kaizen monitor` computes (CBPE from the
scores recalibrated by the bundle's isotonic map, ranked by the raw scores) and, for
comparison, the CBPE of the raw scores (the estimator before). The realised ROC AUC of the
window's own outcomes is the truth. Needs `make repro` first.

    .venv/bin/python bench/estimate.py [--windows 300] [--sizes 200 500 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

import numpy as np

from pipeline import ROOT, machine  # bench/pipeline.py
from results import record  # bench/results.py

from kaizen.bundle import artifact
from kaizen.io import files
from kaizen.monitoring import performance as P
from kaizen.pipeline import metrics as M


def main() -> int:
    """Measure coverage and bias per window size; record the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=300)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 500, 1000])
    args = parser.parse_args()
    bundle = artifact.load(ROOT / "models" / "bundle")
    recal = bundle.info.recalibration
    if recal is None:
        sys.exit("bench: the bundle has no recalibration map: run make repro")
    current = files.read_parquet(ROOT / "data" / "ingest" / "current.parquet")
    score = bundle.model.scores(current[bundle.model.schema.features])
    label = current[bundle.model.schema.target].to_numpy().astype(int)
    costs = (5.0, 1.0)
    rng = np.random.default_rng(0)
    rows = []
    for size in args.sizes:
        found: dict[str, list] = {"new": [], "raw": [], "new_err": [], "raw_err": [], "se": []}
        for _ in range(args.windows):
            pick = rng.integers(0, score.size, size)
            s, y = score[pick], label[pick]
            truth = M.roc_auc(y, s)
            new = P.estimate(recal.apply(s), bundle.threshold, costs, raw=s)
            raw = P.estimate(s, bundle.threshold, costs)
            found["new"].append(abs(new.roc_auc - truth) <= new.roc_auc_se)
            found["raw"].append(abs(raw.roc_auc - truth) <= raw.roc_auc_se)
            found["new_err"].append(new.roc_auc - truth)
            found["raw_err"].append(raw.roc_auc - truth)
            found["se"].append(new.roc_auc_se)
        cover = float(np.mean(found["new"]))
        rows.append(
            f"| {size:,} | {args.windows} | {cover:.1%} | {np.mean(found['new_err']):+.4f} | "
            f"{np.mean(found['se']):.4f} | {np.mean(found['raw']):.1%} | "
            f"{np.mean(found['raw_err']):+.4f} | {'met' if 0.60 <= cover <= 0.76 else 'MISSED'} |"
        )
        print(rows[-1], flush=True)
    text = "\n".join(
        [
            f"Date: {dt.date.today().isoformat()}. Machine: {machine()}. Command: "
            f"`.venv/bin/python bench/estimate.py --windows {args.windows}` (after `make repro`).",
            "",
            "Windows drawn with replacement from the current part (seed 0). Band: estimate ± 1 "
            "s.e.; covered when the window's realised ROC AUC lies inside. Target: 60-76 %.",
            "",
            "| window events | windows | coverage (monitor) | bias (monitor) | mean s.e. "
            "| coverage (raw CBPE, before) | bias (raw CBPE) | target |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    record("estimate", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
