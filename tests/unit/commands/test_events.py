"""kaizen events init|export|purge|check through the CLI."""

import datetime as dt
import json

import pandas as pd
import pytest

from kaizen import cli
from kaizen.events import migrate, predictions
from kaizen.events.engine import create_engine
from kaizen.events.predictions import PredictionRow
from tests.unit.helpers import assert_one_line_error

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
INPUTS = {"Income": 120.0, "Debt": 30.0, "Amount": 900.0, "Price": 1400.0, "Home": "rent"}


def run(capsys, *argv) -> dict:
    """Run a CLI command that must succeed; its JSON summary."""
    assert cli.main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture(name="filled")
def fixture_filled(tmp_path) -> str:
    """A store with three events on three days, the first two labelled."""
    path = str(tmp_path / "events.db")
    engine = create_engine(path)
    migrate.upgrade(engine)
    events = []
    for day in range(3):
        events.append(
            {
                "prediction_id": f"00000000-0000-4000-8000-00000000000{day}",
                "created_at": T0 + dt.timedelta(days=day),
                "request_id": f"r{day}",
                "model_version": "m",
                "schema_version": "s",
                "inputs": {**INPUTS, "Home": "hmac-sha256:ab"} if day == 2 else INPUTS,
                "pii_fields": ["Home"] if day == 2 else [],
                "score": 0.1 * (day + 1),
                "threshold": 0.5,
                "decision": "accept",
                "reasons": [],
                "unseen": {},
                "latency_ms": 1.0,
            }
        )
    predictions.insert(engine, [PredictionRow(**e) for e in events])
    for day, outcome in ((0, 1), (1, 0)):
        predictions.add_feedback(engine, events[day]["prediction_id"], outcome, T0, T0)
    engine.dispose()
    return path


def test_init_twice(tmp_path, capsys):
    """init creates the tables once; the second run is a no-op."""
    db = str(tmp_path / "e.db")
    assert run(capsys, "events", "init", "--db", db)["created"] is True
    assert run(capsys, "events", "init", "--db", db)["created"] is False
    assert run(capsys, "events", "check", "--db", db) == {"events": 0, "integrity": "ok"}


def test_export_every_field_with_a_window(filled, tmp_path, capsys):
    """Every event field, the outcome and the inputs as columns; [since, until) in UTC."""
    out = tmp_path / "window.csv"
    summary = run(
        capsys,
        "events",
        "export",
        "--db",
        filled,
        "--since",
        "2026-03-02",
        "--until",
        "2026-03-03T00:00",
        "--output",
        str(out),
    )
    assert summary["rows"] == 1
    table = pd.read_csv(out)
    assert table.loc[0, "request_id"] == "r1" and table.loc[0, "outcome"] == 0
    for column in ("prediction_id", "created_at", "model_version", "score", "decision", "Income"):
        assert column in table.columns
    everything = tmp_path / "all.parquet"
    assert run(capsys, "events", "export", "--db", filled, "--output", str(everything))["rows"] == 3
    assert pd.read_parquet(everything)["outcome"].isna().sum() == 1
    labelled = tmp_path / "labelled.csv"
    args = ["events", "export", "--db", filled, "--labelled-only", "--output", str(labelled)]
    assert run(capsys, *args)["rows"] == 2


def test_export_training_snapshot(filled, bundled, tmp_path, capsys):
    """--training: the raw columns in schema order plus the target with its own labels; PII
    columns are left out and said so."""
    out = tmp_path / "snapshot.csv"
    argv = ["events", "export", "--db", filled, "--training", "--bundle", str(bundled)]
    summary = run(capsys, *argv, "--negative", "good", "--output", str(out))
    assert summary["rows"] == 2 and summary["left_out"] == []
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "created_at",
        "Income",
        "Debt",
        "Amount",
        "Price",
        "Home",
        "Status",
    ]
    assert table["Status"].tolist() == ["bad", "good"]
    # The event time, in UTC: `kaizen data add --split-date created_at` splits on it.
    times = pd.to_datetime(table["created_at"], utc=True)
    assert times.is_monotonic_increasing and str(times.dt.tz) == "UTC"
    assert table["created_at"].str.endswith("+00:00").all()
    assert cli.main(argv + ["--output", str(out)]) == 1
    assert_one_line_error(capsys.readouterr().err, "--negative: name the target's other class")


def test_export_training_leaves_out_pii_columns(filled, bundled, tmp_path, capsys):
    """A column that was hashed in any labelled event is not training data."""
    engine = create_engine(filled)
    predictions.add_feedback(engine, "00000000-0000-4000-8000-000000000002", 1, T0, T0)
    engine.dispose()
    out = tmp_path / "snapshot.parquet"
    argv = ["events", "export", "--db", filled, "--training", "--bundle", str(bundled)]
    assert cli.main(argv + ["--negative", "good", "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["left_out"] == ["Home"]
    assert "PII column(s) left out: Home" in captured.err
    assert "Home" not in pd.read_parquet(out).columns


def test_purge_applies_retention(filled, capsys):
    """Events before the date go, with their feedback; the rest stays intact."""
    summary = run(capsys, "events", "purge", "--db", filled, "--before", "2026-03-02")
    assert summary["predictions"] == 1 and summary["feedback"] == 1
    assert run(capsys, "events", "check", "--db", filled) == {"events": 2, "integrity": "ok"}


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["purge", "--before", "yesterday"], "--before: 'yesterday' is not an ISO 8601 date"),
        (["export", "--output", "x.json"], "--output: x.json: use a .parquet or .csv file"),
        (["export", "--since", "1/2/2026", "--output", "x.csv"], "--since: '1/2/2026'"),
    ],
)
def test_bad_arguments_are_one_line(filled, capsys, argv, fragment):
    """Bad dates and formats: exit 1, one line."""
    assert cli.main(["events", argv[0], "--db", filled] + argv[1:]) == 1
    assert_one_line_error(capsys.readouterr().err, fragment)


def test_check_reports_problems_and_missing_store(filled, tmp_path, capsys):
    """A store without tables and a store with a problem both exit 1 with one line."""
    assert cli.main(["events", "check", "--db", str(tmp_path / "nothing.db")]) == 1
    assert_one_line_error(capsys.readouterr().err, "no such event store")
    engine = create_engine(filled)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE predictions SET inputs = '[1]' WHERE request_id = 'r0'")
    engine.dispose()
    assert cli.main(["events", "check", "--db", filled]) == 1
    assert_one_line_error(capsys.readouterr().err, "unreadable inputs")


HOSTILE = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "\tTAB": "'\tTAB",
    "\rCR": "'\rCR",
    "nul\x00byte": "nul\ufffdbyte",
    "plain": "plain",
}


@pytest.fixture(name="hostile")
def fixture_hostile(tmp_path) -> str:
    """A store whose events hold formula-like categories (one per event)."""
    path = str(tmp_path / "hostile.db")
    engine = create_engine(path)
    migrate.upgrade(engine)
    rows = [
        PredictionRow(
            prediction_id=f"00000000-0000-4000-8000-{i:012d}",
            created_at=T0,
            request_id=f"r{i}",
            model_version="m",
            schema_version="s",
            inputs={**INPUTS, "Home": value, "Debt": -30.0},
            pii_fields=[],
            score=0.2,
            threshold=0.5,
            decision="accept",
            reasons=[],
            unseen={"Home": value},
            latency_ms=1.0,
        )
        for i, value in enumerate(HOSTILE)
    ]
    predictions.insert(engine, rows)
    engine.dispose()
    return path


def test_csv_export_neutralises_formulas_parquet_keeps_values(hostile, tmp_path, capsys):
    """CSV: each formula-like cell starts with a quote, NUL bytes are replaced, negative
    numbers stay numbers; Parquet: the stored values exactly; both files 0600."""
    csv, parquet = tmp_path / "out" / "e.csv", tmp_path / "e.parquet"
    for output in (csv, parquet):
        run(capsys, "events", "export", "--db", hostile, "--output", str(output))
        assert output.stat().st_mode & 0o777 == 0o600
    assert csv.parent.stat().st_mode & 0o777 == 0o700  # made for the export
    text = csv.read_bytes()
    assert b"\x00" not in text
    read = pd.read_csv(csv, keep_default_na=False)
    assert read["Home"].tolist() == list(HOSTILE.values())
    assert read["Debt"].tolist() == [-30.0] * len(HOSTILE)
    assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in read["unseen"])
    assert pd.read_parquet(parquet)["Home"].tolist() == list(HOSTILE)


def test_export_applies_the_pii_list_to_unseen_and_reasons(tmp_path, capsys):
    """An event stored by an older Kaizen (Home is PII, yet its unseen category is plain and
    its reason kept): the export leaves both out; a hashed category and other reasons stay."""
    path = str(tmp_path / "old.db")
    engine = create_engine(path)
    migrate.upgrade(engine)
    reasons = [{"feature": "Home", "contribution": 0.3}, {"feature": "Debt", "contribution": 0.2}]
    rows = [
        PredictionRow(
            prediction_id=f"00000000-0000-4000-8000-00000000000{i}",
            created_at=T0,
            request_id="r",
            model_version="m",
            schema_version="s",
            inputs={**INPUTS, "Home": "hmac-sha256:ab"},
            pii_fields=["Home"],
            score=0.2,
            threshold=0.5,
            decision="accept",
            reasons=reasons,
            unseen={"Home": home},
            latency_ms=1.0,
        )
        for i, home in enumerate(("castle-planted", "hmac-sha256:cd"))
    ]
    predictions.insert(engine, rows)
    engine.dispose()
    output = tmp_path / "e.parquet"
    run(capsys, "events", "export", "--db", path, "--output", str(output))
    table = pd.read_parquet(output)
    assert [json.loads(text) for text in table["unseen"]] == [{}, {"Home": "hmac-sha256:cd"}]
    assert set(table["reasons"]) == {json.dumps([reasons[1]], separators=(",", ":"))}
    assert b"castle-planted" not in output.read_bytes()
