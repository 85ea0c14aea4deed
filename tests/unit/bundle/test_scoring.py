"""Loading a saved model: hash check before unpickling, one-line errors, versions, unseen."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.io import files
from kaizen.bundle import scoring
from kaizen.pipeline import model as M
from kaizen.pipeline.data import Schema
from tests.unit.helpers import credit_frame, make_params


def copy_model(fitted, tmp_path):
    """A private copy of the fitted model and its metadata."""
    shutil.copy(fitted.model, tmp_path / "model.joblib")
    shutil.copy(fitted.info, tmp_path / "model.json")
    return tmp_path / "model.joblib"


def test_load_gives_versions_and_scores(fitted):
    """Model version = short SHA-256 of the file; schema version from schema + categories."""
    loaded = scoring.load(fitted.model)
    assert loaded.version == files.file_sha256(fitted.model)[:12]
    assert len(loaded.schema_version) == 12
    features = pd.DataFrame(
        {"Income": [100.0], "Debt": [10.0], "Amount": [500.0], "Price": [900.0], "Home": ["rent"]}
    )
    assert 0 <= loaded.scores(features)[0] <= 1
    assert loaded.categories == {"Home": frozenset({"rent", "owner", "other"})}


def test_unseen_mask(fitted):
    """Unseen = a value outside the training categories; missing is not unseen."""
    loaded = scoring.load(fitted.model)
    features = pd.DataFrame({"Home": ["rent", "castle", np.nan]}, dtype=object)
    assert loaded.unseen(features)["Home"].tolist() == [False, True, False]


def test_load_refuses_a_changed_file(fitted, tmp_path):
    """A file whose hash differs from model.json is never unpickled."""
    path = copy_model(fitted, tmp_path)
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(KaizenError, match=r"model.joblib: SHA-256 differs from model.json"):
        scoring.load(path)


def test_load_reports_a_corrupt_file(fitted, tmp_path):
    """Bytes that match the recorded hash but do not unpickle: one line naming the file."""
    path = copy_model(fitted, tmp_path)
    path.write_bytes(b"not a pickle")
    info = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    info["model_sha256"] = files.file_sha256(path)
    (tmp_path / "model.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(KaizenError, match=r"model.joblib: corrupt model file \(\w+\)$"):
        scoring.load(path)


def test_load_names_metadata_from_an_older_train(fitted, tmp_path):
    """model.json without the hash (an older train stage): retrain, says the error."""
    path = copy_model(fitted, tmp_path)
    info = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    del info["model_sha256"]
    (tmp_path / "model.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(KaizenError, match=r"no 'model_sha256' .*dvc repro train"):
        scoring.load(path)


def test_a_missing_category_scores_alike_as_none_or_nan():
    """JSON null (None) and NaN are the same missing value to the model, whose training rows
    had missing categories (so that "missing" is a known level, unlike an unseen value)."""
    schema = Schema("Status", "bad", ["Income", "Debt", "Amount", "Price"], ["Home"])
    frame = credit_frame(300).astype({"Home": object})
    frame["Status"] = (frame["Status"] == "bad").astype("int8")
    frame.loc[frame.index[::4], "Home"] = np.nan
    pipeline = M.train(frame, schema, make_params().train).pipeline
    new = credit_frame(1, seed=2)[schema.features].astype({"Home": object})
    new = new.loc[new.index.repeat(3)].reset_index(drop=True)
    new["Home"] = pd.Series([None, np.nan, "castle"], dtype=object)  # castle: unseen
    none, nan, unseen = pipeline.predict_proba(new)[:, 1]
    assert none == nan != unseen
