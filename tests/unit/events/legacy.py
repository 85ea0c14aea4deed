"""An event store as `main` made it before migrations, frozen here as SQL: the tables of
`kaizen events init` (store_version 1) and, when a monitor had run, the tables it created;
rows written in that layout; and a check that finds every one of them through today's code."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from kaizen.events import predictions, runs
from kaizen.events.engine import create_engine

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
TEXT_TIME = {"sqlite": "DATETIME", "postgresql": "TIMESTAMP WITH TIME ZONE"}
SERIAL = {"sqlite": "INTEGER", "postgresql": "SERIAL"}
KEY = {"sqlite": '"key"', "postgresql": "key"}

# `kaizen events init` on main (CreateTable of its MetaData, per dialect).
EVENTS_DDL = [
    "CREATE TABLE kaizen_store ({key} VARCHAR(64) NOT NULL, value VARCHAR(256) NOT NULL, "
    "PRIMARY KEY ({key}))",
    "CREATE TABLE predictions (prediction_id VARCHAR(36) NOT NULL, created_at {time} NOT NULL, "
    "request_id VARCHAR(128) NOT NULL, model_version VARCHAR(64) NOT NULL, "
    "schema_version VARCHAR(64) NOT NULL, inputs JSON NOT NULL, pii_fields JSON NOT NULL, "
    "score FLOAT NOT NULL, threshold FLOAT NOT NULL, decision VARCHAR(8) NOT NULL, "
    "reasons JSON NOT NULL, unseen JSON NOT NULL, latency_ms FLOAT NOT NULL, "
    "PRIMARY KEY (prediction_id))",
    "CREATE INDEX ix_predictions_created_at ON predictions (created_at)",
    "CREATE TABLE feedback (prediction_id VARCHAR(36) NOT NULL, outcome SMALLINT NOT NULL, "
    "observed_at {time} NOT NULL, received_at {time} NOT NULL, PRIMARY KEY (prediction_id), "
    "FOREIGN KEY(prediction_id) REFERENCES predictions (prediction_id) ON DELETE CASCADE)",
    "INSERT INTO kaizen_store ({key}, value) VALUES ('store_version', '1')",
]
# What `ensure_tables` added at the first `kaizen monitor` run on main.
MONITOR_DDL = [
    "CREATE TABLE monitor_runs (run_id {serial} NOT NULL, started_at {time} NOT NULL, "
    "since {time}, until {time} NOT NULL, by_time BOOLEAN NOT NULL, events INTEGER NOT NULL, "
    "labelled INTEGER NOT NULL, matured_labelled INTEGER NOT NULL, level VARCHAR(24) NOT NULL, "
    "exit_code SMALLINT NOT NULL, estimated_auc FLOAT, estimated_auc_se FLOAT, "
    "realised_auc FLOAT, report JSON NOT NULL, PRIMARY KEY (run_id))",
    "CREATE INDEX ix_monitor_runs_started_at ON monitor_runs (started_at)",
    "CREATE TABLE monitor_signals (run_id INTEGER NOT NULL, signal VARCHAR(128) NOT NULL, "
    "grp VARCHAR(24) NOT NULL, level VARCHAR(24) NOT NULL, breach VARCHAR(24) NOT NULL, "
    "value FLOAT, reference FLOAT, warning FLOAT, critical FLOAT, alerted_at {time}, "
    "PRIMARY KEY (run_id, signal), "
    "FOREIGN KEY(run_id) REFERENCES monitor_runs (run_id) ON DELETE CASCADE)",
]
EVENTS = [
    {
        "prediction_id": f"00000000-0000-7000-8000-00000000000{index}",
        "created_at": T0 + dt.timedelta(hours=index, microseconds=index),
        "request_id": f"r{index}",
        "model_version": "m1",
        "schema_version": "s1",
        "inputs": inputs,
        "pii_fields": pii,
        "score": 0.125 * (index + 1),
        "threshold": 0.3,
        "decision": "refuse" if 0.125 * (index + 1) >= 0.3 else "accept",
        "reasons": [{"feature": "Income", "contribution": 0.25}] if index else [],
        "unseen": {"Home": "castle"} if inputs.get("Home") == "castle" else {},
        "latency_ms": 1.5,
    }
    for index, (inputs, pii) in enumerate(
        [
            ({"Income": 120.0, "Home": "rent"}, []),
            ({"Income": None, "Home": "castle"}, []),
            ({"Income": "hmac-sha256:ab12", "Home": "owner"}, ["Income"]),
        ]
    )
]
OUTCOMES = {EVENTS[0]["prediction_id"]: 1, EVENTS[2]["prediction_id"]: 0}
REPORT = {"level": "warning", "signals": [{"name": "score_psi"}]}
NEXT_RUN = {
    "generated_at": T0.isoformat(),
    "level": "ok",
    "exit_code": 0,
    "window": {
        "since": None,
        "until": T0.isoformat(),
        "by_time": False,
        "events": 3,
        "labelled": 2,
        "matured_labelled": 0,
    },
    "charts": {"history": [{"estimated_auc": 0.7}]},
    "signals": [{"name": "volume", "group": "volume", "level": "ok", "breach": "ok"}],
}


def _time(dialect: str, value: dt.datetime):
    """A time as main's store wrote it (SQLite: naive UTC text)."""
    if dialect == "sqlite":
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def make_main_store(url: str, *, monitor: bool) -> None:
    """Create main's tables at `url` (SQLAlchemy URL) and write events, feedback and, with
    `monitor`, one monitor run with two signals."""
    engine = sa.create_engine(url)
    dialect = engine.dialect.name
    fill = {"time": TEXT_TIME[dialect], "serial": SERIAL[dialect], "key": KEY[dialect]}
    with engine.begin() as conn:
        for statement in EVENTS_DDL + (MONITOR_DDL if monitor else []):
            conn.exec_driver_sql(statement.format(**fill))
        for event in EVENTS:
            row = {
                **event,
                "created_at": _time(dialect, event["created_at"]),
                **{k: json.dumps(event[k]) for k in ("inputs", "pii_fields", "reasons", "unseen")},
            }
            conn.execute(
                sa.text(
                    f"INSERT INTO predictions ({', '.join(row)}) "
                    f"VALUES ({', '.join(':' + k for k in row)})"
                ),
                row,
            )
        for prediction_id, outcome in OUTCOMES.items():
            conn.execute(
                sa.text("INSERT INTO feedback VALUES (:id, :outcome, :at, :at)"),
                {"id": prediction_id, "outcome": outcome, "at": _time(dialect, T0)},
            )
        if monitor:
            conn.execute(
                sa.text(
                    "INSERT INTO monitor_runs (started_at, since, until, by_time, events, "
                    "labelled, matured_labelled, level, exit_code, estimated_auc, "
                    "estimated_auc_se, realised_auc, report) VALUES (:t, NULL, :t, :f, 3, 2, 0, "
                    "'warning', 0, 0.75, 0.01, NULL, :report)"
                ),
                {"t": _time(dialect, T0), "f": False, "report": json.dumps(REPORT)},
            )
            for name, alerted in (("score_psi", _time(dialect, T0)), ("volume", None)):
                conn.execute(
                    sa.text(
                        "INSERT INTO monitor_signals VALUES (1, :name, 'drift', 'warning', "
                        "'warning', 0.2, NULL, 0.1, 0.25, :alerted)"
                    ),
                    {"name": name, "alerted": alerted},
                )
    engine.dispose()


def assert_every_row_found(db: str, *, monitor: bool) -> None:
    """Every event, outcome, run and signal written by `make_main_store`, read by today's code;
    and the monitor can append its next run."""
    engine = create_engine(db)
    try:
        found = predictions.events(engine)
        assert [{k: e[k] for k in EVENTS[0]} for e in found] == EVENTS
        assert {e["prediction_id"]: e["outcome"] for e in found if e["outcome"] is not None} == (
            OUTCOMES
        )
        assert predictions.integrity(engine) == []
        history = runs.history(engine, 5)
        appended = runs.save_run(engine, NEXT_RUN, {"volume": T0})  # the monitor still appends
        assert appended == (2 if monitor else 1)
        if not monitor:
            assert history == []
            return
        [run] = history
        assert run["run_id"] == 1 and run["level"] == "warning" and run["estimated_auc"] == 0.75
        assert run["started_at"] == T0 and run["by_time"] is False
        assert run["signals"]["score_psi"]["alerted_at"] == T0
        assert run["signals"]["volume"]["alerted_at"] is None
        assert run["signals"]["volume"]["critical"] == 0.25
    finally:
        engine.dispose()
