"""Run Evidently 0.7 DataDriftPreset on Parquet files; runs inside bench/.work/evidently-venv.

Usage: evidently_driver.py JOBS.json OUT.json. Each job names a reference and a current Parquet
file, the numeric and categorical columns, the per-type method/threshold (null = Evidently's
default choice) and how many timed runs (best kept). Writes, per job, the Report.run time and per
column the value and the drift flag.
"""

import json
import re
import sys
import time

import pandas as pd

# Evidently lives only in the benchmark's own venv (it needs pandas < 3), not in the project's.
# pylint: disable=import-error
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

# Evidently's own decision rules (legacy/calculations/stattests/*.py in 0.7): p-value tests
# flag drift below (ks: at or below) the threshold; distances and PSI at or above it.
P_VALUE_AT_OR_BELOW = {"ks"}
P_VALUE_BELOW = {"chisquare", "z", "fisher_exact", "g_test", "t_test"}
NAME = re.compile(
    r"ValueDrift\(column=(?P<column>.+),method=(?P<method>[^,]+),threshold=(?P<t>.+)\)"
)


def flag(method: str, value: float, threshold: float) -> bool:
    """Evidently's drift decision for one column."""
    if method in P_VALUE_AT_OR_BELOW:
        return value <= threshold
    if method in P_VALUE_BELOW:
        return value < threshold
    return value >= threshold


def run_job(job: dict) -> dict:
    """One Report.run; per-column results parsed from the snapshot."""
    columns = job["numeric"] + job["categorical"]
    definition = DataDefinition(
        numerical_columns=job["numeric"], categorical_columns=job["categorical"]
    )
    reference = pd.read_parquet(job["reference"])[columns]
    current = pd.read_parquet(job["current"])[columns]
    options = {
        key: job[key]
        for key in ("num_method", "cat_method", "num_threshold", "cat_threshold")
        if job.get(key) is not None
    }
    seconds = cpu = float("inf")
    for _ in range(int(job.get("repeats", 1))):  # best of `repeats`, as ours is timed
        report = Report([DataDriftPreset(**options)])
        start, started_cpu = time.perf_counter(), time.process_time()
        snapshot = report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        seconds = min(seconds, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - started_cpu)
    out = {}
    for metric in snapshot.dict()["metrics"]:
        match = NAME.fullmatch(metric["metric_name"])
        if match:
            method, threshold = match["method"], float(match["t"])
            value = float(metric["value"])
            out[match["column"]] = {
                "method": method,
                "threshold": threshold,
                "value": value,
                "drift": flag(method, value, threshold),
            }
    return {"seconds": seconds, "cpu": cpu, "columns": out}


def main() -> None:
    """Run every job of the jobs file, write the results file."""
    start = time.perf_counter()
    with open(sys.argv[1], encoding="utf-8") as handle:
        jobs = json.load(handle)
    results = {job["name"]: run_job(job) for job in jobs}
    results["_total_seconds"] = time.perf_counter() - start
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
