"""The bundle: every hash checked at load, one-line errors, typed metadata."""

import json
import shutil

import pytest

from kaizen import KaizenError
from kaizen.bundle import artifact


def copy(bundled, tmp_path):
    """A writable copy of the session's bundle."""
    target = tmp_path / "bundle"
    shutil.copytree(bundled, target)
    for path in target.iterdir():
        path.chmod(0o600)
    return target


def test_load_checks_and_exposes_the_bundle(bundled):
    """A bundle loads with its typed metadata, threshold rule and test scores."""
    loaded = artifact.load(bundled)
    assert loaded.version == loaded.model.version == loaded.info.version
    assert 0 < loaded.threshold < 1 and loaded.info.threshold.rule == "cost"
    scores = loaded.test_scores()
    assert list(scores.columns) == ["row", "score", "label"]
    assert loaded.info.evaluated.rows == len(scores)
    assert loaded.info.evaluated.roc_auc_se > 0
    assert sorted(loaded.info.files) == [
        "model.joblib",
        "model_card.json",
        "model_card.md",
        "test_scores.parquet",
    ]
    assert set(loaded.info.profile) >= set(loaded.model.schema.features)


def test_without_the_model_nothing_is_unpickled(bundled, tmp_path):
    """`model=False` verifies every hash and gives the schema, ratios, threshold and test
    scores from bundle.json; the model is unpickled only when asked for. A bundle from before
    the ratios were recorded reads them from its model."""
    light = artifact.load(bundled, model=False)
    assert "model" not in vars(light)  # not unpickled
    loaded = artifact.load(bundled)
    assert "model" in vars(loaded)
    assert light.schema == loaded.model.schema and light.ratios == loaded.ratios
    assert light.decision_threshold(None) == loaded.threshold
    assert light.decision_threshold(0.31) == 0.31
    assert light.model.version == loaded.version  # unpickled on first use
    older = copy(bundled, tmp_path)
    document = json.loads((older / "bundle.json").read_text(encoding="utf-8"))
    del document["ratios"]
    (older / "bundle.json").write_text(json.dumps(document), encoding="utf-8")
    assert artifact.load(older, model=False).ratios == loaded.ratios
    broken = copy(bundled, tmp_path / "broken")
    (broken / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(KaizenError, match="model.joblib: SHA-256 differs"):
        artifact.load(broken, model=False)  # every hash checked, the model's too


def test_the_recalibration_map_is_fitted_on_the_test_split(bundled):
    """bundle.json carries the isotonic map of the test split: its probabilities average to the
    test split's default rate."""
    loaded = artifact.load(bundled)
    scores = loaded.test_scores()
    recal = loaded.info.recalibration
    assert recal is not None and recal.rows == len(scores)
    assert recal.defaults == int(scores["label"].sum())
    assert abs(recal.apply(scores["score"]).mean() - scores["label"].mean()) < 1e-9


@pytest.mark.parametrize("name", ["model.joblib", "test_scores.parquet"])
def test_a_changed_file_is_refused(bundled, tmp_path, name):
    """One changed byte in any file of the bundle stops the load with the file named."""
    folder = copy(bundled, tmp_path)
    with open(folder / name, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(KaizenError, match=f"{name}: SHA-256 differs from bundle.json"):
        artifact.load(folder)


def test_a_missing_file_is_refused(bundled, tmp_path):
    """A file bundle.json lists must be there."""
    folder = copy(bundled, tmp_path)
    (folder / "test_scores.parquet").unlink()
    with pytest.raises(KaizenError, match="test_scores.parquet: missing from the bundle"):
        artifact.load(folder)


def test_not_a_bundle(tmp_path):
    """A folder without bundle.json is named as not a bundle."""
    with pytest.raises(KaizenError, match="not a bundle"):
        artifact.load(tmp_path)


def test_a_bad_document_names_the_field(bundled, tmp_path):
    """An invalid bundle.json names the field."""
    folder = copy(bundled, tmp_path)
    document = json.loads((folder / "bundle.json").read_text())
    document["threshold"]["value"] = 1.5
    (folder / "bundle.json").write_text(json.dumps(document))
    with pytest.raises(KaizenError, match=r"bundle.json: threshold.value: .*less than or equal"):
        artifact.load(folder)


def test_threshold_rules():
    """The rule follows evaluate.threshold: cost, bayes, or a number (fixed)."""
    assert artifact.threshold_rule("bayes", 0.2).rule == "bayes"
    assert artifact.threshold_rule(0.3, 0.3).rule == "fixed"
