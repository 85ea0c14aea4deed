"""Spark in local mode (the `.[spark]` extra, Java 17): `kaizen.spark.score` and
`kaizen predict --engine spark` give `kaizen predict`'s scores and decisions on the same 10,000
rows, exactly. One `local[2]` session for the whole module."""

from __future__ import annotations


import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.cli import main
from kaizen.io.tables import NA_VALUES
from tests.extras import require
from tests.unit.conftest import (  # noqa: F401  # pylint: disable=unused-import  # fixtures
    fixture_bundled,
    fixture_fitted,
)
from tests.unit.engines.test_engines_agree import applications

pytestmark = pytest.mark.integration
require("pyspark")


@pytest.fixture(scope="module", name="scored")
def fixture_scored(bundled, tmp_path_factory) -> tuple:
    """The 10,000 applications (with an `id`), as Parquet, and `kaizen predict`'s (pandas)
    scores of their CSV."""
    root = tmp_path_factory.mktemp("spark")
    frame = applications()
    frame.insert(0, "id", range(len(frame)))
    frame.to_csv(root / "in.csv", index=False)
    frame.to_parquet(root / "in.parquet")
    out = root / "pandas.csv"
    argv = ["predict", "--bundle", str(bundled), "--input", str(root / "in.csv")]
    assert main(argv + ["--output", str(out), "--reasons", "2"]) == 0
    return root, pd.read_csv(out, keep_default_na=False)


def test_score_matches_kaizen_predict(spark, bundled, scored):
    """Same scores, decisions, unseen categories and reasons (an array); the bundle's model
    version; over several partitions."""
    from kaizen import spark as kaizen_spark  # pylint: disable=import-outside-toplevel

    root, expected = scored
    df = spark.read.parquet(str(root / "in.parquet")).repartition(3)
    result = kaizen_spark.score(df, bundled, reasons=2).toPandas().sort_values("id")
    assert result["id"].tolist() == expected["id"].tolist()
    assert result["score"].tolist() == expected["score"].tolist()
    assert result["decision"].tolist() == expected["decision"].tolist()
    assert result["unseen"].tolist() == expected["unseen"].tolist()
    reasons = [
        [name for name in pair if name] for pair in zip(*(expected[f"reason_{k}"] for k in (1, 2)))
    ]
    assert [list(row) for row in result["reasons"]] == reasons
    assert set(result["model_version"]) == {artifact.load(bundled).version}


def test_predict_engine_spark(spark, bundled, scored):  # pylint: disable=unused-argument
    """`kaizen predict --engine spark` on a partitioned Parquet folder writes a folder of
    Parquet parts with the pandas engine's scores; a CSV output name is refused."""
    root, expected = scored
    frame = pd.read_parquet(root / "in.parquet")
    for part, rows in frame.groupby(frame["id"] % 2):
        (root / "parts" / f"half={part}").mkdir(parents=True)
        rows.to_parquet(root / "parts" / f"half={part}" / "data.parquet")
    argv = ["predict", "--bundle", str(bundled), "--engine", "spark", "--master", "local[2]"]
    assert main(argv + ["--input", str(root / "parts"), "--output", str(root / "out") + "/"]) == 0
    result = pd.read_parquet(root / "out").sort_values("id")
    assert result["score"].tolist() == expected["score"].tolist()
    assert result["decision"].tolist() == expected["decision"].tolist()
    assert main(argv + ["--input", str(root / "parts"), "--output", str(root / "o.csv")]) == 1
    assert not (root / "o.csv").exists()


def test_errors_are_one_line(spark, bundled, tmp_path, capfd):
    """A missing column fails on the driver; a bad value fails its task, and the command
    names the column and value in one line, leaving no output."""
    from kaizen import spark as kaizen_spark  # pylint: disable=import-outside-toplevel

    frame = applications().head(50).astype({"Debt": str})
    with pytest.raises(KaizenError, match="^DataFrame: missing column.s. the model needs: Price$"):
        kaizen_spark.score(spark.createDataFrame(frame.drop(columns="Price")), bundled)
    frame.loc[7, "Debt"] = "lots"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    argv = ["predict", "--bundle", str(bundled), "--engine", "spark", "--input"]
    capfd.readouterr()
    code = main(argv + [str(tmp_path / "bad.csv"), "--output", str(tmp_path / "out") + "/"])
    assert code == 1
    errors = [line for line in capfd.readouterr().err.splitlines() if "error: " in line]
    expected = "DataFrame: column 'Debt' holds text 'lots' in partition 0, the model expects a"
    expected += " number"
    assert len(errors) == 1 and errors[0].endswith(f"error: {expected}"), errors
    assert not (tmp_path / "out").exists()


def test_csv_missing_markers_as_the_pandas_engine(bundled, tmp_path):
    """A CSV holding pandas' missing markers (NA, N/A, null, nan, "", with leading spaces too)
    in a numeric and a categorical column: `--engine spark` reads them as missing, as
    `kaizen predict` does, and gives its scores and decisions exactly."""
    frame = applications().head(300)
    markers = [*NA_VALUES, " NA", "  null"]
    text = frame.astype(object).astype(str)
    text.loc[::2, "Income"] = [markers[i % len(markers)] for i in range(len(text.loc[::2]))]
    text.loc[1::3, "Home"] = [markers[-i % len(markers)] for i in range(len(text.loc[1::3]))]
    spaced = {"Amount": text.index % 7 == 0, "Home": text.index % 3 == 2}
    for name, rows in spaced.items():  # a leading space, dropped by both engines
        text.loc[rows, name] = " " + text.loc[rows, name]
    text.insert(0, "id", range(len(text)))
    text.to_csv(tmp_path / "markers.csv", index=False)
    blank = text.where(~text.isin(markers), "")
    blank = blank.assign(**{name: blank[name].str.lstrip() for name in spaced})
    blank.to_csv(tmp_path / "blank.csv", index=False)
    argv = ["predict", "--bundle", str(bundled), "--input"]
    for name in ("markers", "blank"):
        out = tmp_path / f"{name}-pandas.csv"
        assert main(argv + [str(tmp_path / f"{name}.csv"), "--output", str(out)]) == 0
    expected = pd.read_csv(tmp_path / "markers-pandas.csv", keep_default_na=False)
    blank_scores = pd.read_csv(tmp_path / "blank-pandas.csv", keep_default_na=False)
    assert expected["score"].tolist() == blank_scores["score"].tolist()  # markers are missing
    spark_argv = argv + [str(tmp_path / "markers.csv"), "--engine", "spark"]
    assert main(spark_argv + ["--output", str(tmp_path / "out") + "/"]) == 0
    result = pd.read_parquet(tmp_path / "out").astype({"id": int}).sort_values("id")
    assert result["id"].tolist() == expected["id"].tolist()
    assert result["score"].tolist() == expected["score"].tolist()
    assert result["decision"].tolist() == expected["decision"].tolist()
    assert result["unseen"].fillna("").tolist() == expected["unseen"].tolist()
