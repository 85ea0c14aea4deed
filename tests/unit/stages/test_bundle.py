"""The bundle stage: one folder, opt-in reference rows, scores scored by the one path."""

import sqlite3
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.io import files
from kaizen.stages import bundle, train
from tests.unit.helpers import make_params


def test_test_scores_are_the_bundle_models_scores(bundled, fitted):
    """The stored test scores are what the bundled model scores on the test split."""
    loaded = artifact.load(bundled)
    test = files.read_parquet(fitted.test)
    scores = loaded.test_scores()
    expected = loaded.model.scores(test[loaded.model.schema.features])
    np.testing.assert_array_equal(np.sort(scores["score"]), np.sort(expected))


def test_reference_rows_only_when_asked(bundled, fitted, tmp_path):
    """Applicant rows go into the bundle only with bundle.reference_rows."""
    evaluated = bundled.parent / "evaluate"
    result = bundle.run(
        make_params({"bundle": {"reference_rows": 25}}),
        model=str(fitted.model),
        info=str(fitted.info),
        metrics=str(evaluated / "metrics.json"),
        calibration=str(evaluated / "plots" / "calibration" / "test.csv"),
        scores=str(bundled.parent / "scores.parquet"),
        reference=str(fitted.reference),
        card=str(bundled.parent / "card.md"),
        card_json=str(bundled.parent / "card.json"),
        output=str(tmp_path / "bundle"),
    )
    assert result["reference_rows"] == 25
    loaded = artifact.load(tmp_path / "bundle")
    rows = pd.read_parquet(tmp_path / "bundle" / artifact.REFERENCE_ROWS)
    assert len(rows) == 25 and list(rows.columns) == loaded.model.schema.features
    assert not (bundled / artifact.REFERENCE_ROWS).exists()


def test_a_scorecard_bundle_carries_its_sql(bundled, fitted, tmp_path):
    """train.model: scorecard: scorecard.sql in the bundle, hashed in bundle.json, scoring in
    SQLite exactly the bundled model's score (its PD read back through the stated formula)."""
    params = make_params({"train": {"model": "scorecard"}})
    model, info = tmp_path / "model.joblib", tmp_path / "model.json"
    train.run(
        params,
        train=str(fitted.train),
        schema=str(fitted.schema),
        model=str(model),
        info=str(info),
        metrics=str(tmp_path / "train.json"),
    )
    evaluated = bundled.parent / "evaluate"
    result = bundle.run(
        params,
        model=str(model),
        info=str(info),
        metrics=str(evaluated / "metrics.json"),
        calibration=str(evaluated / "plots" / "calibration" / "test.csv"),
        scores=str(bundled.parent / "scores.parquet"),
        reference=str(fitted.reference),
        card=str(bundled / "model_card.md"),
        card_json=str(bundled / "model_card.json"),
        output=str(tmp_path / "bundle"),
    )
    assert result["sql"] and not (bundled / bundle.SQL).exists()
    loaded = artifact.load(tmp_path / "bundle")  # every hash verified, the SQL's included
    assert bundle.SQL in loaded.info.files
    sql = (tmp_path / "bundle" / bundle.SQL).read_text(encoding="utf-8")
    test = files.read_parquet(fitted.test)[loaded.model.schema.features]
    with sqlite3.connect(":memory:") as connection:
        test.to_sql("applications", connection, index=False)
        score = np.array([r[0] for r in connection.execute(f"SELECT {sql} FROM applications")])
    expected = 1 / (1 + 50 * 2 ** ((score - 600) / 20))
    np.testing.assert_allclose(loaded.model.scores(test), expected, rtol=1e-12)


def test_the_bundle_carries_the_card_and_guards_it(bundled, tmp_path):
    """The model card travels in the bundle, hashed: an edited card fails verification."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundled, copy)
    card = json.loads((copy / "model_card.json").read_text(encoding="utf-8"))
    assert card["identity"]["model_version"] == artifact.load(copy).version
    assert (copy / "model_card.md").read_text(encoding="utf-8").startswith("# Model card: ")
    (copy / "model_card.md").write_text("# a friendlier card\n", encoding="utf-8")
    with pytest.raises(KaizenError, match="model_card.md: SHA-256 differs"):
        artifact.load(copy)
