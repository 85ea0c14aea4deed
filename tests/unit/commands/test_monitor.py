"""kaizen monitor: events stored under a PII policy (the PII fields and the ratios computed from
them left out of drift, named in the report, no failure on the missing columns); the per-version
helpers (the window split by model version, each section's own history, the lines naming
versions)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from kaizen import cli
from kaizen.commands import monitor
from kaizen.events import runs
from kaizen.events.engine import create_engine
from kaizen.monitoring.report import ModelVersion
from kaizen.runtime import Serving
from kaizen.serving.app import create_app
from tests.unit.serving.conftest import application

SALT = "pepper-" + "0" * 25
PLANTED = 4242.4375  # an income no output may hold


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_pii_fields_and_their_ratios_are_skipped_and_named(
    bundled, db, tmp_path, monkeypatch, mode
):
    """Income (a ratio's denominator) and Home are PII: no drift signal for Income, Home or
    debt_to_income, a note naming the three; the other inputs and ratios are judged; no output
    file holds the planted income."""
    monkeypatch.setenv("KAIZEN_PII_FIELDS", "Income,Home")
    monkeypatch.setenv("KAIZEN_PII_MODE", mode)
    monkeypatch.setenv("KAIZEN_PII_SALT", SALT)
    monkeypatch.delenv("KAIZEN_ALERT_WEBHOOK", raising=False)
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5)
    batch = [
        application(Income=PLANTED if i == 0 else 100.0 + i, Debt=20.0 + i % 7) for i in range(60)
    ]
    with TestClient(create_app(settings)) as client:
        assert client.post("/predict", json={"applications": batch}).status_code == 200
    output = tmp_path / "report"
    argv = ["--params", str(tmp_path / "none.yaml"), "monitor", "--last", "60"]
    argv += ["--output", str(output), "--db", db, "--bundle", str(bundled)]
    assert cli.main(argv) in (0, 2)
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    judged = {s["name"].removeprefix("feature:") for s in report["signals"]}
    assert not {"Income", "Home", "debt_to_income"} & judged
    assert {"Debt", "Amount", "Price", "amount_to_price"} <= judged
    [note] = [n for n in report["notes"] if "Drift not computed" in n]
    for name in ("Income", "Home", "debt_to_income: computed from personal data (Income)"):
        assert name in note
    assert "Drift not computed" in (output / "report.md").read_text(encoding="utf-8")
    for path in output.iterdir():
        assert str(PLANTED) not in path.read_text(encoding="utf-8"), path.name


def test_a_failing_alert_never_loses_the_run(bundled, db, tmp_path, monkeypatch, capsys):
    """An exception while alerting (whatever it is) is logged without the URL; the reports
    are written and the run is stored."""
    for name in ("KAIZEN_PII_FIELDS", "KAIZEN_PII_SALT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAIZEN_ALERT_WEBHOOK", "https://hooks.example/services/secret-path")
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5)
    with TestClient(create_app(settings)) as client:
        batch = [application(Debt=20.0 + i % 7) for i in range(60)]
        assert client.post("/predict", json={"applications": batch}).status_code == 200

    def broken(*_args, **_kwargs):
        raise ValueError("https://hooks.example/services/secret-path is broken")

    monkeypatch.setattr(monitor, "announce", broken)
    output = tmp_path / "report"
    argv = ["--params", str(tmp_path / "none.yaml"), "monitor", "--last", "60"]
    argv += ["--output", str(output), "--db", db, "--bundle", str(bundled)]
    assert cli.main(argv) in (0, 2)
    err = capsys.readouterr().err
    engine = create_engine(db)
    assert len(runs.history(engine, 5)) == 1
    engine.dispose()
    assert (output / "report.json").is_file()
    assert "alerting failed (ValueError)" in err
    assert "secret-path" not in err


def test_the_monitor_imports_neither_scikit_learn_nor_alembic(bundled, db, tmp_path, monkeypatch):
    """A monitor run reads the ratios and schema from bundle.json and the store's revision with
    SQLAlchemy: no unpickling, no scikit-learn, no Alembic (most of a second of start-up)."""
    for name in ("KAIZEN_PII_FIELDS", "KAIZEN_PII_SALT", "KAIZEN_ALERT_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    settings = Serving.load(bundle=bundled, db=db, threshold=0.5)
    with TestClient(create_app(settings)) as client:
        batch = [application(Debt=20.0 + i % 7) for i in range(60)]
        assert client.post("/predict", json={"applications": batch}).status_code == 200
    argv = ["--params", str(tmp_path / "none.yaml"), "monitor", "--last", "60"]
    argv += ["--output", str(tmp_path / "report"), "--db", db, "--bundle", str(bundled)]
    code = (
        "import json, sys; from kaizen import cli; code = cli.main(sys.argv[1:]); "
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert {"kaizen", "pandas", "sqlalchemy"} <= loaded  # the check sees the run's imports
    assert not {"sklearn", "alembic", "joblib"} & loaded
    assert (tmp_path / "report" / "report.json").is_file()


def test_by_version_puts_the_newest_events_version_first():
    """Groups in order: the newest event's version, then the others sorted; rows kept."""
    frame = pd.DataFrame({"model_version": ["b", "a", "c", "a"], "score": [0.1, 0.2, 0.3, 0.4]})
    groups = monitor.by_version(frame, "c")
    assert [version for version, _ in groups] == ["c", "a", "b"]
    assert groups[1][1]["score"].tolist() == [0.2, 0.4]
    assert [v for v, _ in monitor.by_version(frame, None)] == ["a", "b", "c"]
    assert monitor.by_version(frame.iloc[0:0], "a") == []


def test_by_version_on_categories():
    """The read's categories (an unused one, a missing version named "nan", as str() names
    it) group as text does; one version: the frame itself, not a copy."""
    versions = pd.Categorical(["b", None, "a", "b"], categories=["a", "b", "z"])
    frame = pd.DataFrame({"model_version": versions, "score": [0.1, 0.2, 0.3, 0.4]})
    groups = monitor.by_version(frame, "b")
    assert [version for version, _ in groups] == ["b", "a", "nan"]
    assert [rows["score"].tolist() for _, rows in groups] == [[0.1, 0.4], [0.3], [0.2]]
    assert groups[0][1].index.tolist() == [0, 1]
    alone = frame.iloc[[0, 3]].reset_index(drop=True)
    assert monitor.by_version(alone, None)[0][1] is alone


def test_version_history_keeps_only_that_versions_signals():
    """A section sees its own past signals, without the prefix."""
    past = [
        {
            "events": 10,
            "signals": {"volume": {"breach": "ok"}, "v1/score_psi": {"breach": "critical"}},
        }
    ]
    seen = monitor.version_history(past, "v1/")
    assert seen == [{"events": 10, "signals": {"score_psi": {"breach": "critical"}}}]


def test_version_notes(caplog):
    """One line for a window spanning versions (unjudged ones with their reason), one (also
    logged) when the workspace's bundle scored none of the window."""
    versions = [
        ModelVersion("new", 700, True, "judged"),
        ModelVersion("old", 300, False, "not registered"),
    ]
    with caplog.at_level(logging.WARNING):
        notes = monitor.version_notes("other", versions)
    assert notes[0].startswith("The window spans 2 model versions: new (700 events), old (300")
    assert "not judged, not registered" in notes[0]
    assert "workspace's bundle (other) differs" in notes[1] and "differs" in caplog.text
    assert not monitor.version_notes("new", versions[:1])
