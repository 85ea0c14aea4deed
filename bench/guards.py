"""Drift guards from power: false alarms, judged windows and detection at 200, 500 and 1,000
events, with the SHIPPED defaults (params.yaml's `drift` section, nothing lowered).

Windows are drawn without replacement from the reference part of the default data (one
population), the other rows of the reference part being the reference; the model's engineered
ratios are recomputed on every frame (as the monitor sees them: 16 features). Scenarios:
undrifted; Debt x 2.5 among debtors (Debt > 0); a new Job category on 3 % of the rows; Amount set
missing on 8 % of the rows. A window alarms when any feature is flagged (`warning` or `drift`,
the monitor's drift signals); it is judged when no feature reads `insufficient data`. The score's
own test is left out: reference-part rows include the training rows, whose scores are
in-sample. Needs `make repro` first (the fitted model adds the ratios).

    .venv/bin/python bench/guards.py [--windows 200]
"""

from __future__ import annotations

# A report script: its measuring function is long and linear on purpose.
# pylint: disable=too-many-locals

import argparse
import datetime
import platform
import time

import numpy as np
import pandas as pd

from pipeline import ROOT  # bench/pipeline.py
from results import record  # bench/results.py (scripts run as bench/<name>.py)

from kaizen.bundle import scoring
from kaizen.config import parse_params
from kaizen.drift import verdicts
from kaizen.io import files
from kaizen.pipeline.model import engineered

SIZES = (200, 500, 1000)
FLAGS = (verdicts.DRIFT, verdicts.WARNING)


def debt(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    """Debt x 2.5 among debtors."""
    del rng
    out = frame.copy()
    debtors = out["Debt"].fillna(0) > 0
    out.loc[debtors, "Debt"] = out.loc[debtors, "Debt"] * 2.5
    return out, "Debt"


def new_category(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    """A Job level the reference never had, on 3 % of the rows."""
    out = frame.copy()
    out["Job"] = out["Job"].astype(object)
    out.loc[rng.random(len(out)) < 0.03, "Job"] = "gig"
    return out, "Job"


def missing(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, str]:
    """Amount missing on 8 % of the rows."""
    out = frame.copy()
    out.loc[rng.random(len(out)) < 0.08, "Amount"] = np.nan
    return out, "Amount"


SCENARIOS = {
    "undrifted": None,
    "Debt x 2.5 among debtors": debt,
    "new Job category at 3 %": new_category,
    "Amount 8 % missing": missing,
}


def measure(windows: int) -> str:
    """Every scenario at every size; the README section."""
    params = parse_params(files.read_yaml(ROOT / "params.yaml"))
    config = params.drift
    model = scoring.load(ROOT / "models" / "model.joblib", ROOT / "models" / "model.json")
    raw = files.read_parquet(ROOT / "data" / "ingest" / "reference.parquet")
    schema = model.schema
    rng = np.random.default_rng(20)
    rows = []
    start = time.perf_counter()
    for name, inject in SCENARIOS.items():
        for size in SIZES:
            alarms = judged = hits = 0
            for _ in range(windows):
                order = rng.permutation(len(raw))
                window, rest = raw.iloc[order[:size]], raw.iloc[order[size:]]
                target = None
                if inject is not None:
                    window, target = inject(window, rng)
                cur, ratios = engineered(model.pipeline, window)
                ref, _ = engineered(model.pipeline, rest)
                report = verdicts.analyse(
                    ref, cur, schema.numeric + ratios, schema.categorical, config
                )
                found = {item.feature: item.verdict for item in report.features}
                alarms += any(verdict in FLAGS for verdict in found.values())
                judged += verdicts.INSUFFICIENT not in found.values()
                hits += target is not None and found[target] in FLAGS
            rows.append((name, size, alarms / windows, judged / windows, hits / windows))
    seconds = time.perf_counter() - start
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()} "
        f"({platform.python_version()}), {windows} windows per cell, seeded, "
        f"{seconds:.0f} s; command: `make bench-guards` "
        f"(`.venv/bin/python bench/guards.py --windows {windows}`). "
        f"Shipped defaults: min_power {config.min_power}, min_rows {config.min_rows}, alpha "
        f"{config.alpha} ({config.multiple_testing}), PSI {config.psi_warning}/"
        f"{config.psi_alert}. Targets: <= 5 % false alarms per undrifted window, >= 90 % "
        "detection at 1,000 events.",
        "",
        "| scenario | events | windows with any flag | every feature judged | shifted feature "
        "flagged |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, size, alarm, judge, hit in rows:
        detected = "–" if name == "undrifted" else f"{100 * hit:.1f} %"
        lines.append(
            f"| {name} | {size:,} | {100 * alarm:.1f} % | {100 * judge:.1f} % | {detected} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Measure and record the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200)
    text = measure(parser.parse_args().windows)
    print(text)
    record("guards", text)


if __name__ == "__main__":
    main()
