"""The monitor's window reads on an SQLite event store, and the same frame as the reader it
replaced (inputs extracted by SQL) on varied events: missing and dropped values, fields hashed
as PII, unseen categories, integers, numbers as text, documents that are not objects."""

import datetime as dt
import gc
import uuid

import numpy as np
import pandas as pd
import pytest

from kaizen.events import migrate, predictions
from kaizen.events import windows as M
from kaizen.events.engine import create_engine
from kaizen.events.predictions import PredictionRow
from kaizen.events.schema import FEEDBACK
from tests.unit.events import old_window
from tests.unit.monitoring.events import store_events

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(name="db")
def fixture_db(tmp_path) -> str:
    """A store with 30 old labelled events and 20 recent unlabelled ones."""
    path = str(tmp_path / "events.db")
    frame = pd.DataFrame(
        {"Income": np.r_[np.arange(29.0), [np.nan]], "Home": ["rent", "owner"] * 14 + ["x", None]}
    )
    store_events(
        path, frame, np.linspace(0, 1, 30), NOW - dt.timedelta(days=400), outcomes=[1, 0] * 15
    )
    store_events(path, frame.iloc[:20], np.full(20, 0.2), NOW - dt.timedelta(days=2))
    return path


def test_read_window_types_and_maturity(db):
    """Inputs extracted by SQL: floats (NaN for null), categories; outcome; matured by date."""
    engine = create_engine(db)
    frame = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW, outcome_days=365)
    assert len(frame) == 50
    assert frame["Income"].dtype == "float64" and frame["Income"].isna().sum() == 1
    assert str(frame["Home"].dtype) == "category" and set(frame["Home"].dropna()) == {
        "rent",
        "owner",
        "x",
    }
    assert frame["outcome"].notna().sum() == 30 and frame["matured"].sum() == 30
    recent = M.read_window(
        engine, ["Income"], ["Home"], since=NOW - dt.timedelta(days=7), until=NOW, outcome_days=365
    )
    assert len(recent) == 20 and recent["outcome"].isna().all() and not recent["matured"].any()


def test_read_window_last_n_and_chunks(db, monkeypatch):
    """--last N takes the newest events before --until; chunks join into one frame."""
    monkeypatch.setattr(M, "CHUNK_ROWS", 7)
    engine = create_engine(db)
    frame = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW, last=25)
    assert len(frame) == 25 and (frame["score"] == 0.2).sum() == 20
    assert str(frame["Home"].dtype) == "category"
    oldest = M.window_bounds(engine, NOW, 25)
    assert oldest is not None and oldest < NOW - dt.timedelta(days=399)
    assert M.window_bounds(engine, NOW - dt.timedelta(days=500), 5) is None
    empty = M.read_window(engine, ["Income"], ["Home"], since=NOW, until=NOW)
    assert empty.empty and list(empty.columns)


NUMERIC, CATEGORICAL = ["Income", "Age"], ["Home", "Job"]
HOMES = ["rent", "owner", "other", "castle", None]  # castle: never seen in training
JOBS = ["fixed", "freelance", "partime", "hmac-sha256:9f1c", None]  # hashed as PII


def varied_events(
    count: int, *, seed: int = 0, hashed_numbers: bool = False
) -> list[PredictionRow]:
    """Events as the API stores them, and what a changed PII policy or another writer may
    leave: numbers as text, a number in a categorical field, every 50th document not an
    object; with `hashed_numbers`, a numeric field hashed as PII in every 17th event."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        inputs: dict = {
            "Income": float(rng.integers(50, 300)) if index % 9 else None,
            "Age": int(rng.integers(18, 80)),  # an integer in the JSON
            "Home": HOMES[int(rng.integers(0, len(HOMES)))] if index % 23 else 3,
            "Job": JOBS[int(rng.integers(0, len(JOBS)))],
            "Extra": "not read",
        }
        if index % 13 == 0:
            del inputs["Age"]  # dropped as PII
        if index % 19 == 0:
            inputs["Age"] = "42"
        if hashed_numbers and index % 17 == 0:
            inputs["Income"] = "hmac-sha256:77aa"
        score = float(rng.random())
        rows.append(
            PredictionRow(
                prediction_id=str(uuid.UUID(int=seed * 10**6 + index + 1)),
                created_at=NOW - dt.timedelta(days=float(rng.integers(0, 800)), seconds=index),
                request_id=f"r{index}",
                model_version=["v1", "v2"][index % 2],
                schema_version="s1",
                inputs=inputs if index % 50 != 49 else [1, 2],  # type: ignore[arg-type]
                pii_fields=["Job"],
                score=score,
                threshold=0.3,
                decision="refuse" if score >= 0.3 else "accept",
                reasons=[],
                unseen={"Home": "castle"} if inputs["Home"] == "castle" else {},
                latency_ms=1.0,
            )
        )
    return rows


def fill(db: str, rows: list[PredictionRow]) -> None:
    """Initialise the store, insert the rows, feed back an outcome for every third."""
    engine = create_engine(db)
    migrate.upgrade(engine)
    predictions.insert(engine, rows)
    with engine.begin() as conn:
        conn.execute(
            FEEDBACK.insert(),
            [
                {"prediction_id": row.prediction_id, "outcome": int(row.score > 0.5)}
                | {"observed_at": NOW, "received_at": NOW}
                for row in rows[::3]
            ],
        )
    engine.dispose()


WINDOWS = [
    {"since": None, "until": NOW},
    {"since": NOW - dt.timedelta(days=300), "until": NOW - dt.timedelta(days=10)},
    {"since": None, "until": NOW, "last": 150},
    {"since": NOW, "until": NOW},  # empty
]


def assert_same_frames(db: str) -> None:
    """Every window, one chunk or many: the same frame as the old reader (categories sorted,
    which the old one gave whenever the window fitted in one chunk)."""
    engine = create_engine(db)
    try:
        for window in WINDOWS:
            for outcome_days in (365, 0):
                args = (engine, NUMERIC, CATEGORICAL)
                old = old_window.read_window(*args, **window, outcome_days=outcome_days)
                new = M.read_window(*args, **window, outcome_days=outcome_days)
                pd.testing.assert_frame_equal(new, old)
    finally:
        engine.dispose()


def test_same_frame_as_the_sql_extraction_reader(tmp_path, monkeypatch):
    """Arrow's bulk decoding, its per-value fallback and the chunking change nothing."""
    db = str(tmp_path / "varied.db")
    fill(db, varied_events(600))
    assert_same_frames(db)
    monkeypatch.setattr(M, "CHUNK_ROWS", 64)
    monkeypatch.setattr(old_window, "CHUNK_ROWS", 1000)  # its category order was per chunk
    assert_same_frames(db)


def test_bulk_decoding_and_its_fallback(tmp_path, monkeypatch):
    """Clean events go through Arrow only; a chunk with a value of another type than its
    column is decoded value by value; a numeric field hashed as PII is missing (NaN), where the
    SQL reader made it 0.0 on SQLite and failed on PostgreSQL."""
    slow = []
    decode_each = M._decode_each  # pylint: disable=protected-access
    monkeypatch.setattr(M, "_decode_each", lambda *args: slow.append(1) or decode_each(*args))
    clean = str(tmp_path / "clean.db")
    fill(clean, [row for row in varied_events(200) if isinstance(row.inputs, dict)])
    engine = create_engine(clean)
    with engine.begin() as conn:  # only the text "42" and the number among categories are odd
        conn.exec_driver_sql("UPDATE predictions SET inputs = json_set(inputs, '$.Age', 42)")
        conn.exec_driver_sql("UPDATE predictions SET inputs = json_set(inputs, '$.Home', 'x')")
    assert len(M.read_window(engine, NUMERIC, CATEGORICAL, since=None, until=NOW)) == 196
    assert not slow
    hashed = str(tmp_path / "hashed.db")
    fill(hashed, varied_events(200, hashed_numbers=True))
    frame = M.read_window(create_engine(hashed), NUMERIC, CATEGORICAL, since=None, until=NOW)
    old = old_window.read_window(create_engine(hashed), NUMERIC, CATEGORICAL, since=None, until=NOW)
    assert slow == [1] and len(frame) == 200
    unknown = {i for i in range(200) if i % 9 == 0 or i % 17 == 0 or i % 50 == 49}
    assert frame["Income"].isna().sum() == len(unknown)  # missing, hashed, not an object
    assert (old["Income"] == 0).sum() == len(range(0, 200, 17))
    pd.testing.assert_frame_equal(frame.drop(columns="Income"), old.drop(columns="Income"))
    assert list(frame["Home"].cat.categories) == sorted(["3", *(h for h in HOMES if h)])


def test_the_collector_is_paused_only_while_reading(db):
    """Collection is off during the read and as it was afterwards (also when it was off)."""
    seen = []
    real = M._decode  # pylint: disable=protected-access
    engine = create_engine(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(M, "_decode", lambda *args: seen.append(gc.isenabled()) or real(*args))
        M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW)
        assert seen == [False] and gc.isenabled()
        gc.disable()
        try:
            M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW)
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_a_stored_value_nothing_reads_never_fails_the_window(db, caplog):
    """A lone surrogate (not JSON any encoder takes back), a document that is not JSON, numbers
    beyond a double (as a number and as text): two events skipped, two numbers missing, counted
    in `attrs` and logged (counts only); the other 48 events are read (issue 19)."""
    engine = create_engine(db)
    edits = [
        '{"Income": 1.0, "Home": "a\\ud800"}',
        '{"Income": ',
        '{"Income": 1e400, "Home": "rent"}',
        '{"Income": "1e400", "Home": "own\\u0000er"}',
    ]
    with engine.begin() as conn:
        ids = [
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT prediction_id FROM predictions ORDER BY created_at LIMIT 4"
            )
        ]
        for prediction_id, text in zip(ids, edits):
            conn.exec_driver_sql(
                "UPDATE predictions SET inputs = ? WHERE prediction_id = ?", (text, prediction_id)
            )
    with caplog.at_level("WARNING"):
        frame = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW)
    assert len(frame) == 48 and frame.attrs["unreadable"] == {"events": 2, "values": 2}
    assert np.isfinite(frame["Income"].dropna()).all()
    assert "own\x00er" in set(frame["Home"].dropna())  # readable: kept (the API now refuses it)
    assert "2 stored events skipped (not readable), 2 stored numbers read as missing" in (
        caplog.text
    )
    assert "ud800" not in caplog.text and "1e400" not in caplog.text


def test_read_window_without_inputs(db):
    """No input listed: the stored documents are not read; scores, outcomes, decisions as with
    them (sketch mode's per-event part)."""
    engine = create_engine(db)
    full = M.read_window(engine, ["Income"], ["Home"], since=None, until=NOW, outcome_days=365)
    bare = M.read_window(engine, [], [], since=None, until=NOW, outcome_days=365)
    assert "Income" not in bare and "Home" not in bare
    pd.testing.assert_frame_equal(bare, full.drop(columns=["Income", "Home"]))
    assert "inputs" not in str(
        M.window_query("sqlite", since=None, until=NOW, last=None, outcome_days=1, inputs=False)
    )


def test_columns_read_as_the_lines(tmp_path, monkeypatch):
    """Without inputs the typed columns are read (no JSON line): the frame the lines give, inputs
    left out, on every window (two model versions, outcomes on a third), one chunk or many."""
    db = str(tmp_path / "varied.db")
    fill(db, varied_events(300))
    engine = create_engine(db)
    lines = []
    decode = M._decode  # pylint: disable=protected-access
    monkeypatch.setattr(M, "_decode", lambda *args: lines.append(1) or decode(*args))
    for rows in (M.CHUNK_ROWS, 64):
        monkeypatch.setattr(M, "CHUNK_ROWS", rows)
        for window in WINDOWS:
            for outcome_days in (365, 0):
                bounds = {**window, "outcome_days": outcome_days}
                full = M.read_window(engine, NUMERIC, CATEGORICAL, **bounds)
                lines.clear()
                bare = M.read_window(engine, [], [], **bounds)
                assert not lines
                pd.testing.assert_frame_equal(bare, full.drop(columns=NUMERIC + CATEGORICAL))
                assert bare.attrs.get("unreadable", {"events": 0})["events"] == 0
    frame = M.read_window(engine, [], [], since=None, until=NOW)
    assert frame.dtypes.astype(str).to_dict() == {
        "score": "float64",
        "outcome": "float64",
        "matured": "bool",
        "decision": "category",
        "model_version": "category",
    }
    assert list(frame["model_version"].cat.categories) == ["v1", "v2"]
    assert frame["outcome"].notna().sum() == 100
    for wrong in (0, 7, 1000):  # events stored or removed since the count: grown, cut
        monkeypatch.setattr(M, "_count", lambda *args, n=wrong: n)
        pd.testing.assert_frame_equal(M.read_window(engine, [], [], since=None, until=NOW), frame)
    engine.dispose()
