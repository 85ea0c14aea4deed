"""`kaizen monitor` on the default data, with SQLite and PostgreSQL stores: the current part
replayed (Expenses flagged, exit codes by the thresholds), reference rows (no drift), 50 events
(insufficient data), all outcomes fed back (estimate within 0.03 of realised), the webhook on a
local server, and report.html in headless Chromium."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from kaizen.io import files
from kaizen.bundle import artifact, scoring
from kaizen.events import bundles
from kaizen.events.engine import create_engine
from kaizen.cli import main
from kaizen.commands.pipeline import stage_option
from kaizen.config import parse_params
from kaizen.stages import bundle, card, evaluate, fairness, ingest, prepare, train
from kaizen.stages import drift as drift_stage
from tests.integration.conftest import free_port
from tests.unit.monitoring.events import store_events
from tests.unit.io.test_net import webhook

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
)


@dataclass
class Built:
    """The default data's pipeline outputs at dvc.yaml's paths, in a temporary folder."""

    path: Path
    model: scoring.Model
    current: pd.DataFrame
    reference: pd.DataFrame
    threshold: float

    def params(self, **overrides) -> str:
        """A params file with monitor overrides; its path."""
        raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
        raw["monitor"] = {**raw.get("monitor", {}), **overrides}
        path = self.path / f"params-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        return str(path)

    def replay(
        self, db: str, frame: pd.DataFrame, *, outcomes: bool = False, age_days=1, version=None
    ):
        """Store `frame`'s rows as events scored by the model (as model `version`, default the
        bundle's), `age_days` old."""
        features = frame[self.model.schema.features]
        labels = frame[self.model.schema.target].to_numpy(dtype=float) if outcomes else None
        created = NOW - dt.timedelta(days=age_days)
        store_events(
            db,
            features,
            self.model.scores(features),
            created,
            outcomes=labels,
            threshold=self.threshold,
            model_version=version or self.model.version,
        )


@pytest.fixture(scope="module", name="built")
def fixture_built(tmp_path_factory) -> Built:
    """ingest -> prepare -> train -> evaluate on the embedded data (the stages in-process)."""
    folder = tmp_path_factory.mktemp("default")
    shutil.copy2(ROOT / "dvc.yaml", folder / "dvc.yaml")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["evaluate"].update({"bootstrap": 20, "permutation_repeats": 1})
    raw["fairness"].update({"bootstrap": 20, "stability_refits": 2})
    params = parse_params(raw)

    def at(stage: str, option: str) -> str:
        return str(folder / stage_option(stage, option, ROOT / "dvc.yaml"))

    ingest.run(
        params,
        input=str(ROOT / "data" / "raw" / "credit_data.csv"),
        **{name: at("ingest", name) for name in ("reference", "current", "schema", "metrics")},
    )
    prepare.run(params, **{name: at("prepare", name) for name in prepare.PATHS})
    train.run(params, **{name: at("train", name) for name in train.PATHS})
    evaluate.run(params, **{name: at("evaluate", name) for name in evaluate.PATHS})
    drift_stage.run(params, **{name: at("drift", name) for name in drift_stage.PATHS})
    fairness.run(params, **{name: at("fairness", name) for name in fairness.PATHS})
    card.run(
        params,
        **{name: at("card", name) for name in card.PATHS if name not in ("data", "jsonschema")},
        data=str(ROOT / "data" / "raw" / "credit_data.csv"),
        jsonschema=str(ROOT / stage_option("card", "jsonschema", ROOT / "dvc.yaml")),
    )
    bundle.run(params, **{name: at("bundle", name) for name in bundle.PATHS})
    metrics = files.read_json(Path(at("evaluate", "output")) / "metrics.json")
    return Built(
        folder,
        scoring.load(at("train", "model")),
        files.read_parquet(at("ingest", "current")),
        files.read_parquet(at("ingest", "reference")),
        metrics["threshold"],
    )


@pytest.fixture(name="database", params=["sqlite", "postgresql"])
def fixture_database(request, tmp_path) -> str:
    """An empty event store: an SQLite file, or a fresh database on the session's server."""
    if request.param == "sqlite":
        return str(tmp_path / "events.db")
    server = request.getfixturevalue("postgres")
    name = f"monitor_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def monitor(built: Built, db: str, output: Path, *args: str, params: str | None = None) -> dict:
    """`kaizen monitor` in the built folder; (exit code, report.json)."""
    old = Path.cwd()
    os.chdir(built.path)
    try:
        code = main(
            ["--params", params or built.params(), "monitor", *args, "--output", str(output)]
            + ["--db", db, "--bundle", str(built.path / "models" / "bundle")]
        )
    finally:
        os.chdir(old)
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    return {"code": code, "report": report}


def level_of(report: dict, name: str) -> str:
    """A signal's level."""
    return next(s["level"] for s in report["signals"] if s["name"] == name)


def test_current_part_replayed_flags_expenses(built, database, tmp_path, capsys):
    """Expenses drifts: warning on the first window (persistence 2), critical and exit 2 on the
    second; the runs are stored and every output written."""
    built.replay(database, built.current)
    first = monitor(built, database, tmp_path / "one", "--window", "7d")
    assert first["code"] == 0 and first["report"]["level"] == "warning"
    assert level_of(first["report"], "feature:Expenses") == "warning"
    assert first["report"]["window"]["events"] == len(built.current)
    second = monitor(built, database, tmp_path / "two", "--window", "7d")
    assert second["code"] == 2 and second["report"]["level"] == "critical"
    flagged = [s["name"] for s in second["report"]["signals"] if s["level"] == "critical"]
    assert flagged == ["feature:Expenses"]
    assert len(second["report"]["charts"]["history"]) == 2
    for name in ("report.json", "report.md", "metrics.prom", "report.html"):
        assert (tmp_path / "two" / name).stat().st_size > 0
    assert "ALERT warning: feature:Expenses" in capsys.readouterr().err


def test_reference_rows_replayed_show_no_drift(built, tmp_path):
    """1,000 reference rows as traffic: no feature, score or decision-rate flag."""
    db = str(tmp_path / "events.db")
    built.replay(db, built.reference.sample(1000, random_state=3))
    result = monitor(built, db, tmp_path / "out", "--last", "1000")
    report = result["report"]
    drift = [s for s in report["signals"] if s["group"] == "drift"]
    assert all(s["level"] == "ok" for s in drift), [(s["name"], s["level"]) for s in drift]
    assert report["drift"]["verdict"] == "stable" and result["code"] == 0


def test_events_of_another_model_version_are_never_judged(built, tmp_path, capsys):
    """A window scored partly by a model never registered: those events are counted and named
    (model_versions, a note, a log line), never judged; the bundle's own events are."""
    db = str(tmp_path / "events.db")
    built.replay(db, built.reference.sample(600, random_state=4))
    built.replay(db, built.current.head(300), age_days=2, version="0123456789ab")
    result = monitor(built, db, tmp_path / "out", "--window", "7d")
    report = result["report"]
    assert report["window"]["events"] == 900 and report["sections"] == []
    assert {v["version"]: (v["events"], v["judged"]) for v in report["model_versions"]} == {
        built.model.version: (600, True),
        "0123456789ab": (300, False),
    }
    assert report["reference"]["model_version"] == built.model.version
    assert report["drift"]["features"] and report["estimated"]["rows"] == 600
    err = capsys.readouterr().err
    assert "300 event(s) scored by model 0123456789ab not judged: not registered" in err
    assert any("spans 2 model versions" in note for note in report["notes"])


def test_each_version_is_judged_against_its_own_registered_bundle(built, tmp_path, capsys):
    """Events of an older model registered with its own bundle (another threshold and test
    split) and of the workspace's model: one section each, each against its own figures; the
    workspace's bundle named when it scored none of the window."""
    db = str(tmp_path / "events.db")
    built.replay(db, built.reference.sample(600, random_state=5), age_days=2, version="old0ld0ld0l")
    bundled = artifact.load(built.path / "models" / "bundle")
    old = bundled.info.model_dump(mode="json")
    old.update(version="old0ld0ld0l", threshold={**old["threshold"], "value": 0.5})
    test = bundled.test_scores().head(400)
    engine = create_engine(db)
    bundles.register(engine, old, test)
    engine.dispose()
    only_old = monitor(built, db, tmp_path / "one", "--window", "7d")["report"]
    assert only_old["reference"]["model_version"] == "old0ld0ld0l"
    assert only_old["reference"]["threshold"] == 0.5 and only_old["reference"]["test_rows"] == 400
    assert any(
        f"workspace's bundle ({built.model.version}) differs" in n for n in only_old["notes"]
    )
    assert f"workspace's bundle ({built.model.version}) differs" in capsys.readouterr().err
    built.replay(db, built.reference.sample(700, random_state=6))
    both = monitor(built, db, tmp_path / "two", "--window", "7d")["report"]
    assert both["reference"]["model_version"] == built.model.version  # the newest event's
    assert both["reference"]["test_rows"] == len(bundled.test_scores())
    assert [s["reference"]["model_version"] for s in both["sections"]] == ["old0ld0ld0l"]
    assert both["sections"][0]["reference"]["threshold"] == 0.5
    assert both["sections"][0]["window"]["events"] == 600 and both["window"]["events"] == 1300
    names = {s["name"] for s in both["signals"]}
    assert "feature:Income" in names and "old0ld0ld0l/feature:Income" in names
    text = (tmp_path / "two" / "report.md").read_text(encoding="utf-8")
    assert "## Model version old0ld0ld0l" in text
    assert "Model version old0ld0ld0l" in (tmp_path / "two" / "report.html").read_text("utf-8")


def test_serve_and_monitor_from_a_folder_holding_only_the_bundle(built, tmp_path):
    """A deployment: an empty folder with a copied bundle (its default path) and the event
    database; `kaizen serve` answers and stores, `kaizen monitor` judges the stored events with
    the bundle's settings (no params.yaml, no dvc.yaml, no data)."""
    deployed = tmp_path / "deployed"
    shutil.copytree(built.path / "models" / "bundle", deployed / "models" / "bundle")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIZEN_")}
    kaizen = [str(Path(shutil.which("python") or "python")), "-m", "kaizen"]
    env["PYTHONPATH"] = str(ROOT / "src")
    subprocess.run(kaizen + ["events", "init"], cwd=deployed, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(  # pylint: disable=consider-using-with
        kaizen + ["serve", "--port", str(port)],
        cwd=deployed,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        rows = built.current.head(60)[built.model.schema.features]
        body = {"applications": rows.astype(object).where(rows.notna(), None).to_dict("records")}
        answer = post_when_up(port, "/predict", body)
        assert len(answer["predictions"]) == 60
        assert {p["model_version"] for p in answer["predictions"]} == {built.model.version}
    finally:
        server.terminate()
        server.wait(timeout=30)
    done = subprocess.run(
        kaizen + ["monitor", "--last", "60", "--output", "out"],
        cwd=deployed,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((deployed / "out" / "report.json").read_text(encoding="utf-8"))
    # 60 events: too few to call anything stable; Expenses' real shift may still be flagged
    assert report["window"]["events"] == 60 and report["level"] in {"insufficient data", "warning"}
    assert sorted(p.name for p in deployed.iterdir()) == ["events.db", "models", "out"]


def post_when_up(port: int, path: str, body: dict, timeout: float = 60.0) -> dict:
    """POST JSON once the server on 127.0.0.1:`port` accepts connections; the decoded answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", path, json.dumps(body), {"content-type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200, response.read()
            return json.loads(response.read())
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_fifty_events_are_insufficient_data(built, tmp_path):
    """50 events: no feature can be called stable (too little power), the estimate is
    'insufficient data', exit 0; Expenses' real shift between the batches (PSI about 0.5) is
    significant even here, so it is flagged (a warning: critical needs two windows)."""
    db = str(tmp_path / "events.db")
    built.replay(db, built.current.iloc[:50])
    result = monitor(built, db, tmp_path / "out", "--window", "7d")
    assert result["report"]["level"] == "warning" and result["code"] == 0
    assert level_of(result["report"], "feature:Expenses") == "warning"
    assert level_of(result["report"], "feature:Age") == "insufficient data"
    assert level_of(result["report"], "estimated_auc") == "insufficient data"


def test_all_outcomes_fed_back_estimate_is_within_003(built, database, tmp_path):
    """Every outcome of the current part fed back: estimated ROC AUC within 0.03 of realised."""
    built.replay(database, built.current, outcomes=True)
    params = built.params(outcome_window_days=0)
    report = monitor(built, database, tmp_path / "out", "--window", "7d", params=params)["report"]
    realised, estimated = report["realised"]["roc_auc"], report["estimated"]["roc_auc"]
    assert report["realised"]["rows"] == len(built.current)
    assert abs(estimated - realised) < 0.03
    assert report["realised"]["estimate_error"] == pytest.approx(
        report["realised"]["estimated_auc"] - realised, abs=1e-5
    )
    assert level_of(report, "realised_auc") != "insufficient data"


def test_young_outcomes_are_not_judged(built, tmp_path):
    """Outcomes of events younger than the default 365-day window: counted, not judged."""
    db = str(tmp_path / "events.db")
    built.replay(db, built.current, outcomes=True, age_days=30)
    report = monitor(built, db, tmp_path / "out", "--window", "60d")["report"]
    assert report["window"]["labelled"] == len(built.current)
    assert report["window"]["matured_labelled"] == 0 and report["realised"] is None
    assert level_of(report, "realised_auc") == "insufficient data"


def test_webhook_alerts_once_per_episode(built, tmp_path, monkeypatch):
    """Received on 127.0.0.1 with the signal, value, threshold and runbook; not again while the
    level holds; a dead webhook loses neither the report nor the exit code."""
    db = str(tmp_path / "events.db")
    built.replay(db, built.current)
    with webhook([]) as (url, received):
        monkeypatch.setenv("KAIZEN_ALERT_WEBHOOK", url)
        monitor(built, db, tmp_path / "1", "--window", "7d")
        monitor(built, db, tmp_path / "2", "--window", "7d")  # warning -> critical: again
        monitor(built, db, tmp_path / "3", "--window", "7d")  # still critical: quiet
    assert [[a["signal"] for a in body["alerts"]] for body in received] == [
        ["feature:Expenses"],
        ["feature:Expenses"],
    ]
    assert [body["alerts"][0]["level"] for body in received] == ["warning", "critical"]
    assert received[1]["alerts"][0]["threshold"] == 0.25 and received[1]["alerts"][0]["runbook"]
    monkeypatch.setenv("KAIZEN_ALERT_WEBHOOK", "http://127.0.0.1:9/closed")
    other = str(tmp_path / "other.db")
    built.replay(other, built.current)
    params = built.params(webhook_retries=1, webhook_backoff=0.0)
    result = monitor(built, other, tmp_path / "4", "--window", "7d", params=params)
    assert result["code"] == 0 and (tmp_path / "4" / "report.html").is_file()


def test_bad_arguments_are_one_line_errors(built, tmp_path, capsys):
    """A bad window, a missing store: one line naming the problem, no output folder."""
    old = Path.cwd()
    os.chdir(built.path)
    try:
        assert (
            main(
                [
                    "monitor",
                    "--window",
                    "7x",
                    "--output",
                    str(tmp_path / "o"),
                    "--db",
                    str(tmp_path / "e.db"),
                ]
            )
            == 1
        )
        assert "--window: '7x'" in capsys.readouterr().err
        assert (
            main(
                [
                    "--params",
                    built.params(),
                    "monitor",
                    "--window",
                    "7d",
                    "--output",
                    str(tmp_path / "o"),
                    "--db",
                    str(tmp_path / "none.db"),
                ]
            )
            == 1
        )
        assert "no such event store" in capsys.readouterr().err
    finally:
        os.chdir(old)
    assert not (tmp_path / "o").exists()


def chromium() -> str | None:
    """Debian's chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_html_renders_in_headless_chromium(built, tmp_path):
    """No console message at all, and every chart drawn (counted by the page itself)."""
    browser = chromium()
    if browser is None:
        if os.environ.get("KAIZEN_REQUIRE_CHROMIUM") == "1":
            pytest.fail("KAIZEN_REQUIRE_CHROMIUM=1 but no chromium on PATH")
        pytest.skip("chromium not installed (Debian package `chromium`)")
    db = str(tmp_path / "events.db")
    built.replay(db, built.current)
    monitor(built, db, tmp_path / "out", "--window", "7d")
    page = (tmp_path / "out" / "report.html").as_uri()
    result = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    assert 'data-charts-drawn="3/3"' in result.stdout
    for chart in ("chart-scores", "chart-drift", "chart-trend"):
        assert f'id="{chart}"' in result.stdout


def corrupt(db: str, edits: list[tuple[str, str]]) -> None:
    """Rewrite the stored inputs of the oldest events as raw JSON text, bypassing the API and
    its validation: each (field, raw JSON value) edits one event."""
    url = db if "://" in db else f"sqlite:///{db}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    postgres = engine.dialect.name == "postgresql"
    marker = "%s" if postgres else "?"
    value = f"CAST({marker} AS json)" if postgres else marker
    with engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT prediction_id, CAST(inputs AS TEXT) FROM predictions ORDER BY created_at "
            f"LIMIT {len(edits)}"
        ).all()
        for (prediction_id, text), (field, raw) in zip(rows, edits):
            document = json.loads(text)
            document[field] = "@@"
            edited = json.dumps(document).replace('"@@"', raw)
            conn.exec_driver_sql(
                f"UPDATE predictions SET inputs = {value} WHERE prediction_id = {marker}",
                (edited, prediction_id),
            )
    engine.dispose()


def test_a_stored_bad_value_never_fails_a_window(built, database, tmp_path, capsys):
    """Events stored before validation refused them (a lone surrogate, which failed every window
    holding it on SQLite and PostgreSQL; a NUL; a number beyond a double, as a number and as
    text): the unreadable event is skipped, the numbers are read as missing, both counted in
    the log; the window is judged on every other event."""
    frame = built.current.head(400)
    built.replay(database, frame)
    category, number = built.model.schema.categorical[0], built.model.schema.numeric[0]
    corrupt(
        database,
        [
            (category, '"own\\ud800er"'),
            (category, '"own\\u0000er"'),
            (number, "1e400"),
            (number, '"1e400"'),
        ],
    )
    result = monitor(built, database, tmp_path / "out", "--window", "7d")
    assert result["code"] in (0, 1, 2)
    assert result["report"]["window"]["events"] == len(frame) - 1
    warned = capsys.readouterr().err
    assert "1 stored events skipped (not readable), 2 stored numbers read as missing" in warned


def closed_loop(built: Built, folder: Path, current: pd.DataFrame) -> list[dict]:
    """`kaizen serve` (uvicorn) in a folder holding the bundle; `kaizen simulate-traffic` replays
    `current` with the default feedback policy (outcomes of accepted applications only); two
    `kaizen monitor` runs (outcome window 0: every outcome judged). Their report.json."""
    shutil.copytree(built.path / "models" / "bundle", folder / "models" / "bundle")
    current.to_parquet(folder / "current.parquet")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIZEN_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"), KAIZEN_FEEDBACK_TOKEN="closed-loop-token-of-32-bytes-or-more"
    )
    kaizen = [str(Path(shutil.which("python") or "python")), "-m", "kaizen"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            kaizen + list(args), cwd=folder, env=env, capture_output=True, text=True, check=False
        )

    assert run("events", "init").returncode == 0
    port = free_port()
    server = subprocess.Popen(  # pylint: disable=consider-using-with
        kaizen + ["serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            replay = run(
                "simulate-traffic", "--input", "current.parquet", "--url",
                f"http://127.0.0.1:{port}", "--feedback-share", "1",
            )  # fmt: skip
            if "unreachable" not in replay.stderr:
                break
            time.sleep(0.2)
        assert replay.returncode == 0, replay.stderr
        sent = json.loads(replay.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert sent["feedback_policy"] == "accepted" and sent["feedback"] == sent["accepted"]
    assert 0 < sent["feedback"] < len(current)
    params = built.params(outcome_window_days=0)
    reports = []
    for name in ("one", "two"):
        done = run("--params", params, "monitor", "--window", "1d", "--output", name)
        assert done.returncode in (0, 2), done.stderr
        reports.append(json.loads((folder / name / "report.json").read_text(encoding="utf-8")))
    return reports


def performance_levels(report: dict) -> dict[str, str]:
    """The performance signals' levels."""
    return {s["name"]: s["level"] for s in report["signals"] if s["group"] == "performance"}


def test_closed_loop_accepted_outcomes_raise_no_performance_signal(built, tmp_path):
    """The current part served and replayed, outcomes of accepted applicants only: twice, no
    performance signal at warning or critical; realised figures cover accepted applicants."""
    reports = closed_loop(built, tmp_path / "loop", built.current)
    for report in reports:
        levels = performance_levels(report)
        assert not {n for n, level in levels.items() if level in ("warning", "critical")}, levels
        assert report["realised"]["baseline"]["population"] == "accepted applicants"
        assert levels["realised_auc"] == "ok" and levels["estimated_auc"] == "ok"


def test_closed_loop_degraded_outcomes_are_critical(built, tmp_path):
    """The same loop with 40 % of the outcomes shuffled (seed 0): a performance signal is
    critical on the second run (persistence 2)."""
    degraded = built.current.copy()
    target = built.model.schema.target
    rng = np.random.default_rng(0)
    rows = rng.choice(len(degraded), int(0.4 * len(degraded)), replace=False)
    degraded.loc[degraded.index[rows], target] = rng.permutation(degraded[target].to_numpy()[rows])
    first, second = closed_loop(built, tmp_path / "degraded", degraded)  # pylint: disable=W0632
    assert "critical" not in performance_levels(first).values()
    assert "critical" in performance_levels(second).values(), performance_levels(second)
    assert second["level"] == "critical"
