"""The same 10,000 applications scored by `kaizen predict` with pandas (CSV), pandas streaming
Parquet, DuckDB (Parquet, CSV, a SQL query) and the API give identical scores and decisions:
floating-point equality. The batch outputs round scores to 6 decimals (`engines.batch`), the API
returns them unrounded: its scores are compared once rounded the same way, and its decisions are
taken at full precision, like the batch engines' (a score within 5e-7 of the threshold could
differ; the test checks none does here). Spark is compared on the same rows in
tests/integration/test_spark.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from kaizen.bundle import artifact
from kaizen.cli import main
from kaizen.events import migrate
from kaizen.events.engine import create_engine
from kaizen.runtime import Serving
from kaizen.serving.app import create_app
from tests.unit.helpers import credit_frame

FEATURES = ["Income", "Debt", "Amount", "Price", "Home"]
ROWS = 10_000


def applications() -> pd.DataFrame:
    """10,000 applications with missing numbers and categories and an unseen category."""
    frame = credit_frame(ROWS, seed=11)[FEATURES].astype({"Home": object})
    frame.loc[frame.index % 97 == 0, "Income"] = np.nan
    frame.loc[frame.index % 89 == 0, "Home"] = None
    frame.loc[frame.index % 101 == 0, "Home"] = "castle"
    return frame.reset_index(drop=True)


def api_scores(bundled, tmp_path, frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Scores and decisions from POST /predict, 1,000 applications per request."""
    db = str(tmp_path / "events.db")
    engine = create_engine(db)
    migrate.upgrade(engine)
    engine.dispose()
    records = [
        {key: (None if pd.isna(value) else value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    answers = []
    settings = Serving.load(bundle=bundled, db=db, threshold=threshold, reasons=0)
    with TestClient(create_app(settings)) as client:
        for start in range(0, len(records), 1000):
            response = client.post("/predict", json={"applications": records[start : start + 1000]})
            assert response.status_code == 200, response.text
            answers += response.json()["predictions"]
    return pd.DataFrame(answers)


def test_engines_give_identical_scores(bundled, tmp_path, monkeypatch):
    """pandas, pandas on Parquet, DuckDB on Parquet / CSV / SQL, and the API agree exactly."""
    for name in ("KAIZEN_ENGINE", "KAIZEN_BATCH_ROWS", "KAIZEN_THRESHOLD", "KAIZEN_DB"):
        monkeypatch.delenv(name, raising=False)
    frame = applications()
    frame.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "data").mkdir()
    frame.to_parquet(tmp_path / "data" / "in.parquet")
    threshold = artifact.load(bundled).threshold
    runs = {
        "pandas": ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "p.csv")],
        "pandas-parquet": [
            "--input",
            str(tmp_path / "data" / "in.parquet"),
            "--output",
            str(tmp_path / "pp.parquet"),
            "--batch-rows",
            "3000",
        ],
        "duckdb-parquet": [
            "--engine",
            "duckdb",
            "--input",
            str(tmp_path / "data" / "*.parquet"),
            "--output",
            str(tmp_path / "dp") + "/",
            "--batch-rows",
            "1000",
        ],
        "duckdb-csv": ["--engine", "duckdb", "--input", str(tmp_path / "in.csv"), "--output"],
        "duckdb-sql": [
            "--engine",
            "duckdb",
            "--input",
            f"SELECT * FROM read_parquet('{tmp_path / 'data' / 'in.parquet'}')",
            "--output",
            str(tmp_path / "ds.csv"),
        ],
    }
    runs["duckdb-csv"].append(str(tmp_path / "dc.csv"))
    for args in runs.values():
        assert main(["predict", "--bundle", str(bundled), *args]) == 0
    outputs = {
        "pandas": pd.read_csv(tmp_path / "p.csv"),
        "pandas-parquet": pd.read_parquet(tmp_path / "pp.parquet"),
        "duckdb-parquet": pd.read_parquet(tmp_path / "dp"),
        "duckdb-csv": pd.read_csv(tmp_path / "dc.csv"),
        "duckdb-sql": pd.read_csv(tmp_path / "ds.csv"),
    }
    reference = outputs["pandas"]
    assert len(reference) == ROWS and reference["decision"].nunique() == 2
    assert (tmp_path / "dc.csv").read_bytes() == (tmp_path / "p.csv").read_bytes()
    for name, scored in outputs.items():
        assert scored["score"].tolist() == reference["score"].tolist(), name
        assert scored["decision"].tolist() == reference["decision"].tolist(), name
        assert scored["unseen"].fillna("").tolist() == reference["unseen"].fillna("").tolist()
    api = api_scores(bundled, tmp_path, frame, threshold)
    assert api["score"].round(6).tolist() == reference["score"].tolist()
    assert api["decision"].tolist() == reference["decision"].tolist()
    assert not np.any(np.abs(api["score"] - threshold) < 5e-7)
