"""The scorecard's SQL expression reproduces the Python scores exactly in SQLite and DuckDB."""

from __future__ import annotations

import sqlite3

import duckdb
import numpy as np
import pandas as pd
import pytest

from kaizen.pipeline import model as M
from kaizen.pipeline import scorecard_sql as Q
from kaizen.pipeline.data import Schema
from tests.unit.helpers import SCORECARD_SCHEMA, make_params, scorecard_frame

SCHEMA = Schema.from_dict(SCORECARD_SCHEMA)
RATIOS = [{"name": "debt_to_income", "numerator": "Debt", "denominator": "Income"}]
ROWS = 10_000


def fitted(decimals: int, special: list[float]):
    """A scorecard with a ratio, a special code and points to `decimals` decimals."""
    scorecard = {"decimals": decimals, "special_codes": special}
    train = {"model": "scorecard", "features": {"ratios": RATIOS}, "scorecard": scorecard}
    return M.train(scorecard_frame(), SCHEMA, make_params({"train": train}).train).pipeline


def applications() -> pd.DataFrame:
    """10,000 rows unlike the training rows: missing cells, zero incomes (NULL ratio), special
    codes, unseen categories, values on the split points themselves."""
    rng = np.random.default_rng(7)
    frame = scorecard_frame(ROWS, seed=3)[SCHEMA.features]
    for name in SCHEMA.features:
        frame.loc[rng.random(ROWS) < 0.03, name] = np.nan
    frame.loc[rng.random(ROWS) < 0.02, "Income"] = 0.0
    frame.loc[rng.random(ROWS) < 0.02, "Debt"] = -1.0
    frame.loc[rng.random(ROWS) < 0.02, "Home"] = "castle"
    return frame


def python_scores(pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The pipeline's own scores (the sum of points)."""
    inputs = pipeline.named_steps["features"].transform(frame)
    return pipeline.named_steps["model"].score(pipeline.named_steps["prep"].transform(inputs))


@pytest.mark.parametrize("decimals, special", [(0, []), (2, [-1.0])])
def test_sql_reproduces_python_scores_exactly(decimals, special):
    """Every one of 10,000 rows: SQLite and DuckDB give the very same float as Python."""
    pipeline = fitted(decimals, special)
    frame = applications()
    uppers = [b for b in Q.S.table(pipeline)["upper"].dropna() if np.isfinite(b)]
    frame.loc[: len(uppers) - 1, "Age"] = uppers[: min(len(uppers), ROWS)]  # on the edges
    expected = python_scores(pipeline, frame)
    sql = Q.of_pipeline(pipeline)
    with sqlite3.connect(":memory:") as connection:
        frame.to_sql("applications", connection, index=False)
        lite = [row[0] for row in connection.execute(f"SELECT {sql} FROM applications")]
    duck = duckdb.connect()
    duck.register("applications", frame)
    found = duck.execute(f"SELECT {sql} AS score FROM applications").fetchnumpy()["score"]
    np.testing.assert_array_equal(np.array(lite), expected)
    np.testing.assert_array_equal(found, expected)
    assert len(np.unique(expected)) > 100


def test_sql_names_the_scaling_and_reads_doubles():
    """Comment lines state the PD formula; split points are double literals."""
    sql = Q.of_pipeline(fitted(0, []))
    assert "-- Probability of default: 1 / (1 + base_odds * 2^((score - base_score) / pdo))" in sql
    assert Q.number(25.5) == "25.5e0" and Q.number(1e-7) == "1e-07"
    assert Q.quote('a"b') == '"a""b"' and Q.text("o'k") == "'o''k'"
