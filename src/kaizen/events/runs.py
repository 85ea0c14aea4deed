"""The monitor's runs: every run's results kept in two tables of the event database
(`monitor_runs`, `monitor_signals`), so that their history is queryable by SQL (Grafana,
Superset) and drives the persistence rule, the alert cooldown and the trend charts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kaizen.events.schema import RUNS, SIGNALS


def history(engine: Engine, limit: int) -> list[dict[str, Any]]:
    """The last `limit` runs, newest first, each with its signals {name: {...}}."""
    with engine.connect() as conn:
        runs = conn.execute(sa.select(RUNS).order_by(RUNS.c.run_id.desc()).limit(limit)).mappings()
        out = [dict(run) for run in runs]
        if not out:
            return []
        ids = [run["run_id"] for run in out]
        rows = conn.execute(sa.select(SIGNALS).where(SIGNALS.c.run_id.in_(ids))).mappings()
        by_run: dict[int, dict[str, Any]] = {run_id: {} for run_id in ids}
        for row in rows:
            by_run[row["run_id"]][row["signal"]] = dict(row)
    for run in out:
        run["signals"] = by_run[run["run_id"]]
        run["until"] = run["until"].isoformat()
        run.pop("report", None)
    return out


def save_run(
    engine: Engine, report: Mapping[str, Any], alerted: Mapping[str, dt.datetime | None]
) -> int:
    """Store one run and its signals in one transaction; its run_id."""
    window = report["window"]
    trend = report["charts"]["history"][-1]
    with engine.begin() as conn:
        inserted = conn.execute(
            RUNS.insert().values(
                started_at=dt.datetime.fromisoformat(report["generated_at"]),
                since=(
                    None if window["since"] is None else dt.datetime.fromisoformat(window["since"])
                ),
                until=dt.datetime.fromisoformat(window["until"]),
                by_time=window["by_time"],
                events=window["events"],
                labelled=window["labelled"],
                matured_labelled=window["matured_labelled"],
                level=report["level"],
                exit_code=report["exit_code"],
                estimated_auc=trend.get("estimated_auc"),
                estimated_auc_se=trend.get("estimated_auc_se"),
                realised_auc=trend.get("realised_auc"),
                report=json.loads(json.dumps(report, default=str)),
            )
        )
        run_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(
            SIGNALS.insert(),
            [
                {
                    "run_id": run_id,
                    "signal": item["name"],
                    "grp": item["group"],
                    "level": item["level"],
                    "breach": item["breach"],
                    "value": item.get("value"),
                    "reference": item.get("reference"),
                    "warning": item.get("warning"),
                    "critical": item.get("critical"),
                    "alerted_at": alerted.get(item["name"]),
                }
                for item in report["signals"]
            ],
        )
    return int(run_id)
