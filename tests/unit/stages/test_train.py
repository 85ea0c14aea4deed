"""train: fit, save the pipeline, its metadata and training facts."""

import pytest

from kaizen import KaizenError, cli
from kaizen.bundle import scoring
from kaizen.io import files
from kaizen.pipeline.model import predict_scores
from kaizen.stages import train
from tests.unit.helpers import RATIOS, make_params

OUTPUTS = ("model.joblib", "model.json", "train.json")


def run(fitted, tmp_path, update=None) -> dict:
    """Train on the shared train split, writing into tmp_path."""
    paths = dict(zip(("model", "info", "metrics"), (str(tmp_path / name) for name in OUTPUTS)))
    return train.run(
        make_params(update), train=str(fitted.train), schema=str(fitted.schema), **paths
    )


def test_train_writes_model_metadata_and_facts(fitted, tmp_path, capsys):
    """The model scores the train rows; metadata holds schema, hash, params, versions."""
    ratios = RATIOS + [{"name": "home_per_income", "numerator": "Home", "denominator": "Income"}]
    with cli.diagnostics("train"):
        facts = run(fitted, tmp_path, {"train": {"features": {"ratios": ratios}}})
    err = capsys.readouterr().err
    assert err == (
        "kaizen train: ratio 'home_per_income' skipped: its columns are not numeric columns of "
        "this data\n"
    )
    frame = files.read_parquet(fitted.train)
    assert facts["rows"] == len(frame) and facts["outliers_removed"] == 0
    assert facts["features_in"] == 5
    # 4 numeric + 2 ratios (no missing value, so no indicator) + 3 one-hot home categories.
    assert facts["features_model"] == 9
    pipeline = files.load_model(tmp_path / "model.joblib")
    assert facts["features_model"] == pipeline[:-1].transform(frame.iloc[:1]).shape[1]
    scores = predict_scores(pipeline, frame[["Income", "Debt", "Amount", "Price", "Home"]])
    assert scores.between(0, 1).all()
    info = files.read_json(tmp_path / "model.json")
    assert info["schema"] == files.read_json(fitted.schema)
    assert info["ratios_skipped"] == ["home_per_income"]
    assert info["train_sha256"] == files.file_sha256(fitted.train)
    assert info["train_rows"] == len(frame)
    assert info["params"]["model"] == "logreg"
    assert "scikit-learn" in info["versions"]
    assert info["high_cardinality"] == {}
    assert info["model_sha256"] == files.file_sha256(tmp_path / "model.joblib")
    assert info["categories"] == {"Home": sorted(frame["Home"].unique())}
    assert set(info["reference"]["inputs"]) == {"Income", "Debt", "Amount", "Price", "Home"} | {
        r["name"] for r in RATIOS
    }
    assert set(info["reference"]["encoded_means"]) == set(pipeline[1].get_feature_names_out())
    written = files.read_json(tmp_path / "train.json")
    assert written == {
        k: v for k, v in facts.items() if k not in ("fit_seconds", "high_cardinality")
    }


def test_train_warns_about_high_cardinality(fitted, tmp_path, capsys):
    """A categorical column with more distinct values than warn_share of the rows is named,
    with the fix; max_categories caps its one-hot columns."""
    frame = files.read_parquet(fitted.train)
    wide = tmp_path / "wide.parquet"
    files.write_parquet(frame.assign(Home=[f"id{i}" for i in range(len(frame))]), wide)
    paths = {name.split(".", maxsplit=1)[0]: str(tmp_path / name) for name in OUTPUTS}
    categories = {"min_frequency": None, "max_categories": 4, "warn_share": 0.5}
    update = {"train": {"categories": categories}}
    with cli.diagnostics("train"):
        facts = train.run(
            make_params(update),
            train=str(wide),
            schema=str(fitted.schema),
            model=paths["model"],
            info=paths["model"].replace("joblib", "json"),
            metrics=paths["train"],
        )
    err = capsys.readouterr().err
    assert (
        f"kaizen train: warning: column 'Home' has {len(frame)} distinct values in {len(frame)} "
        "training rows (> train.categories.warn_share): an identifier or free text? Drop it "
        "with data.columns: {Home: drop}\n"
    ) in err
    assert facts["high_cardinality"] == {"Home": len(frame)}
    # 4 numeric + 2 ratios (no missing value, no indicator) + 4 Home columns (3 + infrequent)
    assert facts["features_model"] == 6 + 4


def test_train_removes_outlier_rows(fitted, tmp_path):
    """outliers.method: remove drops the training rows outside the quantiles."""
    facts = run(fitted, tmp_path, {"train": {"outliers": {"method": "remove", "lower": 0.1}}})
    rows = len(files.read_parquet(fitted.train))
    assert facts["outliers_removed"] > 0
    assert facts["rows"] == rows - facts["outliers_removed"]
    assert files.read_json(tmp_path / "model.json")["train_rows"] == facts["rows"]


@pytest.mark.parametrize(
    ("update", "problem"),
    [
        (
            {"train": {"outliers": {"method": "remove", "lower": 0.49, "upper": 0.51}}},
            "params.yaml: train.outliers: removing outliers left a single class",
        ),
        ({"train": {"pca": {"n_components": 500}}}, "params.yaml: train.pca.n_components: "),
    ],
)
def test_train_errors_write_nothing(fitted, tmp_path, update, problem):
    """Bad outlier or PCA settings: one-line error naming the key, no output."""
    with pytest.raises(KaizenError) as caught:
        run(fitted, tmp_path, update)
    assert str(caught.value).startswith(problem)
    assert "\n" not in str(caught.value)
    assert not any((tmp_path / name).exists() for name in OUTPUTS)


def test_train_other_fit_errors_propagate(fitted, tmp_path, monkeypatch):
    """A ValueError unrelated to params is a bug: it is not disguised as a user error."""

    def broken(*_args, **_kwargs):
        raise ValueError("something else")

    monkeypatch.setattr("sklearn.pipeline.Pipeline.fit", broken)
    with pytest.raises(ValueError, match="something else"):
        run(fitted, tmp_path)


def test_protected_columns_stay_out_of_the_model(fitted, tmp_path):
    """Declared protected: Income and the ratio built from it leave the model; the pipeline still
    takes them as input (the fairness analysis reads them), and model.json says so."""
    update = {"fairness": {"protected": [{"column": "Income"}]}}
    facts = run(fitted, tmp_path, update)
    assert facts["features_model"] == 9 - 2  # no Income, no debt_to_income
    info = files.read_json(tmp_path / "model.json")
    assert info["protected"] == ["Income"]
    assert info["reference"]["protected"] == ["Income", "debt_to_income"]
    assert "Income" not in info["reference"]["inputs"]
    frame = files.read_parquet(fitted.train)
    model = scoring.load(tmp_path / "model.joblib")
    assert model.scores(frame[model.schema.features]).shape == (len(frame),)


def test_a_kept_protected_column_is_never_a_reason(fitted, tmp_path):
    """exclude_protected false: the model uses Home and Income, yet no reason cites them or the
    ratio debt_to_income built from Income (`kaizen predict --reasons` and the API share this)."""
    update = {
        "fairness": {"protected": [{"column": "Home"}, {"column": "Income"}]},
        "train": {"exclude_protected": False},
    }
    facts = run(fitted, tmp_path, update)
    assert facts["features_model"] == 9
    model = scoring.load(tmp_path / "model.joblib")
    frame = files.read_parquet(fitted.test)[model.schema.features]
    cited = {name for row in model.reasons(frame, 4) for name, _ in row}
    assert cited and not cited & {"Home", "Income", "debt_to_income"}
    assert not {"Home", "Income", "debt_to_income"} & set(model.explainer.inputs)
