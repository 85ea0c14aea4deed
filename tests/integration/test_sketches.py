"""`kaizen monitor` in sketch mode on the default data (SQLite; the profiles' storage on
PostgreSQL as well): the current part replayed over
four days (Expenses shifted) and reference rows (no drift), judged once exactly and once from
merged daily profiles: the same verdicts and signal levels, every PSI within 0.005; the
profiles are stored once per complete day, reused, and rebuilt when their day changes."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from kaizen.cli import main
from kaizen.events import windows
from kaizen.events.engine import create_engine
from tests.integration.test_monitor import (  # noqa: F401  # pylint: disable=unused-import
    Built,
    fixture_built,
    fixture_database,
    monitor,
)

pytestmark = pytest.mark.integration
AGES = (0.01, 1, 2, 3)  # days: today's partial day (read exactly), then three whole days


def replay_days(built: Built, db: str, frame: pd.DataFrame) -> None:
    """`frame`'s rows stored in four parts, one per age."""
    for index, age in enumerate(AGES):
        built.replay(db, frame.iloc[index :: len(AGES)], age_days=age)


def compare(built: Built, frame: pd.DataFrame, tmp_path) -> tuple[dict, dict]:
    """report.json of an exact and of a sketch run on two identical stores."""
    reports = []
    for mode in ("exact", "sketch"):
        db = str(tmp_path / f"{mode}.db")
        replay_days(built, db, frame)
        out = tmp_path / mode
        reports.append(monitor(built, db, out, "--window", "7d", params=built.params(mode=mode)))
    exact, sketched = (item["report"] for item in reports)
    assert reports[0]["code"] == reports[1]["code"]
    assert sketched["window"]["events"] == exact["window"]["events"] == len(frame)
    assert sketched["level"] == exact["level"]
    levels = {s["name"]: s["level"] for s in exact["signals"]}
    assert {s["name"]: s["level"] for s in sketched["signals"]} == levels
    assert sketched["drift"]["verdict"] == exact["drift"]["verdict"]
    one = {item["feature"]: item for item in exact["drift"]["features"]}
    for item in sketched["drift"]["features"]:
        assert item["verdict"] == one[item["feature"]]["verdict"], item["feature"]
        assert abs(item["psi"] - one[item["feature"]]["psi"]) <= 0.005, item["feature"]
        assert item["missing_current"] == one[item["feature"]]["missing_current"]
    return exact, sketched


def test_shifted_replay_same_verdicts(built, tmp_path):
    """The current part (Expenses shifted): Expenses flagged by both modes alike."""
    exact, _ = compare(built, built.current, tmp_path)
    flagged = [s["name"] for s in exact["signals"] if s["level"] != "ok"]
    assert "feature:Expenses" in flagged


def test_reference_rows_same_verdicts(built, tmp_path):
    """2,000 reference rows as traffic: no drift in either mode."""
    exact, _ = compare(built, built.reference.sample(2000, random_state=3), tmp_path)
    assert exact["drift"]["verdict"] == "stable"


def test_profiles_are_stored_reused_and_rebuilt(built, database, tmp_path, capsys):
    """`kaizen events profile` stores one profile per complete day of the last 30 (empty days
    included: never read again); a second run builds none;
        a day that received events since is rebuilt (and the monitor then merges it)."""
    db = database
    replay_days(built, db, built.current)
    bundle = str(built.path / "models" / "bundle")
    args = ["--params", built.params(mode="sketch"), "events", "profile", "--db", db]
    assert main([*args, "--bundle", bundle]) == 0
    first = json.loads(capsys.readouterr().out)
    whole_days = len(built.current) - len(built.current.iloc[:: len(AGES)])
    assert first["built"] == first["days"] == 29 and first["events"] == whole_days
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT events FROM event_profiles WHERE events > 0").all()
    assert len(rows) == 3 and sum(row[0] for row in rows) == whole_days
    assert main([*args, "--bundle", bundle]) == 0
    assert json.loads(capsys.readouterr().out)["built"] == 0
    built.replay(db, built.current.head(10), age_days=2.5)
    result = monitor(
        built, db, tmp_path / "out", "--window", "7d", params=built.params(mode="sketch")
    )
    assert result["report"]["window"]["events"] == len(built.current) + 10
    assert "profiled 1 day(s)" in capsys.readouterr().err
    engine.dispose()


def test_two_runs_over_one_store_give_the_same_figures(built, tmp_path, capsys):
    """Two sketch-mode runs over one store and one window give the same report.json (drift
    figures and signals included) although every day's sketch is compacted (k = 16): the
    days' profiles are joined, never merged at random, the partial day is read exactly; the
    first run builds the six whole days (three of them empty), the second rebuilds none."""
    db = str(tmp_path / "events.db")
    replay_days(built, db, built.current)
    engine = create_engine(db)
    until = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    params = built.params(mode="sketch", sketch_k=16)
    reports: list[dict] = []
    logs: list[str] = []
    for name in ("one", "two"):
        found = monitor(
            built, db, tmp_path / name, "--window", "7d", "--until", until, params=params
        )
        with engine.begin() as conn:  # the second run sees no history: the same persistence
            conn.exec_driver_sql("DELETE FROM monitor_signals")
            conn.exec_driver_sql("DELETE FROM monitor_runs")
        reports.append({k: v for k, v in found["report"].items() if k != "generated_at"})
        logs.append(capsys.readouterr().err)
    engine.dispose()
    one, two = reports[0], reports[1]
    assert json.dumps(one["drift"]) == json.dumps(two["drift"])
    assert json.dumps(one["signals"]) == json.dumps(two["signals"])
    assert one == two and one["window"]["events"] == len(built.current)
    assert "profiled 6 day(s)" in logs[0] and "profiled" not in logs[1]


PER_EVENT = ("window", "model_versions", "estimated", "estimated_accepted", "realised")
PER_EVENT_SIGNALS = ("score_psi", "decision_rate", "volume", "estimated_auc", "realised_auc")


def test_per_event_figures_as_before(built, database, tmp_path, monkeypatch):
    """Sketch mode's per-event part (scores, decisions, outcomes) read as typed columns: the
    same report as through the JSON lines it replaced (inputs read, then dropped), and the
    figures exact mode reads per event: the window, estimated and realised performance, the
    score's drift, decisions; two model versions (one not registered: not judged)."""
    for index, age in enumerate(AGES):
        rows = built.current.iloc[index :: len(AGES)]
        built.replay(database, rows, age_days=age, outcomes=index % 2 == 0)
    built.replay(database, built.current.head(40), age_days=0.5, version="retired")
    engine = create_engine(database)
    # One window for every run: "7d before now" moved by a second between runs (CI: a
    # different `since`, and a different `at` in the trend chart).
    until = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def run(mode: str, name: str) -> dict:
        params = built.params(mode=mode, outcome_window_days=0)
        window = ("--window", "7d", "--until", until)
        report = monitor(built, database, tmp_path / name, *window, params=params)
        with engine.begin() as conn:  # the next run sees no history: the same persistence
            conn.exec_driver_sql("DELETE FROM monitor_signals")
            conn.exec_driver_sql("DELETE FROM monitor_runs")
        return {k: v for k, v in report["report"].items() if k != "generated_at"}

    sketched, exact = run("sketch", "sketch"), run("exact", "exact")
    read = windows.read_window

    def through_lines(engine_, numeric, categorical, **window):
        if numeric or categorical:
            return read(engine_, numeric, categorical, **window)
        frame = read(engine_, ["Income"], ["Home"], **window)  # the JSON lines, then dropped
        return frame.drop(columns=["Income", "Home"])

    monkeypatch.setattr(windows, "read_window", through_lines)
    assert run("sketch", "before") == sketched
    engine.dispose()
    assert sketched["realised"] is not None and sketched["realised"]["rows"] > 0
    assert [v["events"] for v in sketched["model_versions"]] == [len(built.current), 40]
    for key in PER_EVENT:
        assert sketched[key] == exact[key], key
    for key in ("score_psi", "score_verdict", "rows_current", "target_rate_current"):
        assert sketched["drift"][key] == exact["drift"][key], key
    signals = [{s["name"]: s for s in report["signals"]} for report in (sketched, exact)]
    for name in PER_EVENT_SIGNALS:
        assert signals[0][name] == signals[1][name], name
