"""kaizen monitor on events stored under a PII policy: the PII fields and the ratios computed
from them are left out of drift (never judged on hashes against a plain reference), the report
says which and why, and the monitor does not fail on the missing columns."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kaizen import cli
from kaizen.commands import monitor
from kaizen.events import runs
from kaizen.events.engine import create_engine
from kaizen.runtime import Serving
from kaizen.serving.app import create_app
from tests.unit.serving.conftest import (  # noqa: F401  # pylint: disable=unused-import
    application,
    fixture_db,
)

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
