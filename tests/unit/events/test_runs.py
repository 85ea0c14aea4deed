"""The monitor's runs and signals, saved and read back (SQLite)."""

import datetime as dt

from kaizen.events import runs as R
from kaizen.events.engine import create_engine

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def test_runs_and_signals_round_trip(db):
    """save_run then history: newest first, signals by name."""
    engine = create_engine(db)
    report = {
        "generated_at": NOW.isoformat(),
        "level": "warning",
        "exit_code": 0,
        "window": {
            "since": None,
            "until": NOW.isoformat(),
            "by_time": False,
            "events": 50,
            "labelled": 30,
            "matured_labelled": 30,
        },
        "charts": {"history": [{"estimated_auc": 0.8, "estimated_auc_se": 0.01}]},
        "signals": [
            {
                "name": "score_psi",
                "group": "drift",
                "level": "warning",
                "breach": "critical",
                "value": 0.3,
            },
            {"name": "volume", "group": "volume", "level": "ok", "breach": "ok", "value": 50.0},
        ],
    }
    first = R.save_run(engine, report, {"score_psi": NOW})
    second = R.save_run(engine, {**report, "level": "ok"}, {})
    found = R.history(engine, 5)
    assert [run["run_id"] for run in found] == [second, first]
    assert found[1]["signals"]["score_psi"]["breach"] == "critical"
    assert found[1]["signals"]["score_psi"]["alerted_at"] == NOW
    assert found[0]["events"] == 50 and found[0]["estimated_auc"] == 0.8
    assert R.history(engine, 1)[0]["run_id"] == second
