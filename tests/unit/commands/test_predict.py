"""Batch scoring with the saved pipeline."""

import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.io import files
from kaizen.bundle import artifact, scoring
from kaizen.cli import main
from kaizen.commands import predict
from kaizen.runtime import Predict
from kaizen.pipeline.model import predict_scores
from tests.unit.helpers import credit_frame

FEATURES = ["Income", "Debt", "Amount", "Price", "Home"]


def new_applications(tmp_path, frame: pd.DataFrame | None = None):
    """A CSV of applications (no target, an extra column) and its path."""
    frame = credit_frame(8, seed=5)[FEATURES] if frame is None else frame
    frame = frame.assign(Id=range(100, 100 + len(frame)))
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    return path


def test_info_path():
    """The metadata JSON sits beside the model."""
    assert str(scoring.info_path("models/model.joblib")) == "models/model.json"


def test_run_scores_every_row(bundled, fitted, tmp_path):
    """Scores equal the pipeline's probabilities; input columns are kept, in order."""
    source = new_applications(tmp_path)
    output = tmp_path / "out" / "scored.csv"
    assert predict.score_file(str(bundled), str(source), str(output)) == 8
    scored = pd.read_csv(output)
    assert list(scored.columns) == FEATURES + ["Id", "score", "decision", "unseen"]
    threshold = artifact.load(bundled).threshold  # the API's default threshold too
    assert (
        scored["decision"].tolist()
        == np.where(scored["score"] >= threshold, "refuse", "accept").tolist()
    )
    expected = predict_scores(files.load_model(fitted.model), credit_frame(8, seed=5)[FEATURES])
    assert scored["score"].tolist() == pytest.approx(expected.round(6).tolist(), abs=1e-9)
    assert scored["Id"].tolist() == list(range(100, 108))


def test_run_with_threshold_and_missing_values(bundled, tmp_path):
    """A threshold adds accept/refuse; missing values are imputed, not rejected."""
    frame = credit_frame(6, seed=2)[FEATURES]
    frame.loc[1, "Income"] = None
    frame.loc[2, "Home"] = None
    source = new_applications(tmp_path, frame)
    output = tmp_path / "scored.csv"
    predict.score_file(str(bundled), str(source), str(output), threshold=0.5)
    scored = pd.read_csv(output)
    assert scored["score"].between(0, 1).all()
    expected = ["refuse" if value >= 0.5 else "accept" for value in scored["score"]]
    assert scored["decision"].tolist() == expected


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("Price", None, "missing column(s) the model needs: Price"),
        (
            "Debt",
            "lots",
            "column 'Debt' holds text 'lots' at data row 3, the model expects a number",
        ),
    ],
)
def test_run_rejects_bad_input(bundled, tmp_path, column, value, problem):
    """A missing column or text in a numeric column: one-line error, no output."""
    frame = credit_frame(5, seed=1)[FEATURES].astype(str)
    if value is None:
        frame = frame.drop(columns=column)
    else:
        frame.loc[2, column] = value
    source = new_applications(tmp_path, frame)
    output = tmp_path / "scored.csv"
    with pytest.raises(KaizenError) as caught:
        predict.score_file(str(bundled), str(source), str(output))
    assert str(caught.value) == f"{source}: {problem}"
    assert not output.exists()


def test_scoring_in_chunks_writes_the_same_file(bundled, tmp_path, monkeypatch):
    """Chunks scored on the pool and written one after another give the one-chunk file."""
    frame = credit_frame(50, seed=3)[FEATURES]
    frame.loc[4, "Home"] = "castle"
    source = new_applications(tmp_path, frame)
    whole, parts = tmp_path / "whole.csv", tmp_path / "parts.csv"
    predict.score_file(str(bundled), str(source), str(whole), threshold=0.3, reasons=2)
    monkeypatch.setattr(predict, "CHUNK", 7)
    predict.score_file(str(bundled), str(source), str(parts), threshold=0.3, reasons=2)
    assert parts.read_bytes() == whole.read_bytes()
    assert "Home=castle" in whole.read_text(encoding="utf-8")


def test_reading_while_loading_restores_the_switch_interval(bundled, tmp_path):
    """The short switch interval of the read lasts only that long, errors included."""
    before = sys.getswitchinterval()
    source = new_applications(tmp_path)
    predict.score_file(str(bundled), str(source), str(tmp_path / "ok.csv"))
    assert sys.getswitchinterval() == before
    source.write_text("Income,Debt\n1,2\n", encoding="utf-8")
    with pytest.raises(KaizenError, match="missing column"):
        predict.score_file(str(bundled), str(source), str(tmp_path / "no.csv"))
    assert sys.getswitchinterval() == before


def test_run_argument_errors(bundled, tmp_path):
    """Out-of-range threshold, output over input, no bundle, a file missing from it."""
    source = new_applications(tmp_path)
    out = str(tmp_path / "o.csv")
    with pytest.raises(KaizenError, match=r"^--threshold: must lie in \[0, 1\], got 1.5$"):
        predict.score_file(str(bundled), str(source), out, threshold=1.5)
    with pytest.raises(KaizenError, match="refusing to overwrite the input file"):
        predict.score_file(str(bundled), str(source), str(source))
    with pytest.raises(KaizenError, match=r"nope: not a bundle \(no bundle.json"):
        predict.score_file(str(tmp_path / "nope"), str(source), out)
    shutil.copytree(bundled, tmp_path / "lonely")
    (tmp_path / "lonely" / "model.joblib").unlink()
    with pytest.raises(KaizenError, match=r"lonely/model.joblib: missing from the bundle"):
        predict.score_file(str(tmp_path / "lonely"), str(source), out)
    assert not (tmp_path / "o.csv").exists()


def test_run_adds_reasons_and_unseen_categories(bundled, fitted, tmp_path):
    """--reasons K adds reason_1..K (features that raised the score); `unseen` lists categories
    the model never saw, `column=value`, and nothing for a missing value."""
    frame = credit_frame(4, seed=3)[FEATURES]
    frame.loc[0, "Home"] = "castle"
    frame.loc[1, "Home"] = None
    source = new_applications(tmp_path, frame)
    output = tmp_path / "scored.csv"
    predict.score_file(str(bundled), str(source), str(output), reasons=2)
    scored = pd.read_csv(output, keep_default_na=False)
    assert list(scored.columns)[-3:] == ["unseen", "reason_1", "reason_2"]
    assert scored["unseen"].tolist() == ["Home=castle", "", "", ""]
    loaded = scoring.load(fitted.model)
    features = frame.astype({"Home": object})
    expected = loaded.reasons(features, 2)
    for rank in (0, 1):
        names = [row[rank][0] if rank < len(row) else "" for row in expected]
        assert scored[f"reason_{rank + 1}"].tolist() == names
    assert all(scored["reason_1"] != "")


def test_unseen_text_joins_columns_per_row():
    """Several unseen columns in one row are joined with '; '."""
    features = pd.DataFrame({"A": ["x", "y", "z"], "B": ["p", "q", "r"]})
    mask = pd.DataFrame({"A": [True, False, True], "B": [True, False, False]})
    assert predict.unseen_text(mask, features).tolist() == ["A=x; B=p", "", "A=z"]


def test_run_rejects_negative_reasons(fitted, tmp_path):
    """--reasons below 0 is a one-line error."""
    with pytest.raises(KaizenError, match="^--reasons: must be 0 or more, got -1$"):
        predict.score_file(
            str(fitted.model), str(new_applications(tmp_path)), str(tmp_path / "o.csv"), reasons=-1
        )


def test_parquet_output_is_parquet(bundled, tmp_path):
    """`--output x.parquet` writes Parquet (it used to write CSV into that file), with the same
    rows as the CSV output; a folder output holds Parquet parts."""
    source = new_applications(tmp_path, credit_frame(40, seed=7)[FEATURES])
    predict.score_file(str(bundled), str(source), str(tmp_path / "s.csv"), reasons=1)
    predict.score_file(str(bundled), str(source), str(tmp_path / "s.parquet"), reasons=1)
    predict.score_file(str(bundled), str(source), str(tmp_path / "parts") + "/", reasons=1)
    expected = pd.read_csv(tmp_path / "s.csv", keep_default_na=False)
    for output in ("s.parquet", "parts"):
        scored = pd.read_parquet(tmp_path / output)
        assert scored["score"].tolist() == expected["score"].tolist()
        assert scored["reason_1"].tolist() == expected["reason_1"].tolist()
    assert (tmp_path / "s.parquet").read_bytes()[:4] == b"PAR1"


def test_parquet_input_folder_and_glob(bundled, tmp_path):
    """A Parquet file, a partitioned folder or a glob is scored in batches: the CSV's scores."""
    frame = credit_frame(30, seed=9)[FEATURES]
    csv = new_applications(tmp_path, frame)
    predict.score_file(str(bundled), str(csv), str(tmp_path / "csv.csv"))
    expected = pd.read_csv(tmp_path / "csv.csv")
    for part, rows in ((1, frame.iloc[:12]), (2, frame.iloc[12:])):
        (tmp_path / "data" / f"part={part}").mkdir(parents=True)
        rows.to_parquet(tmp_path / "data" / f"part={part}" / "rows.parquet")
    settings = Predict.load(batch_rows=1000)
    for source in (tmp_path / "data", tmp_path / "data" / "*" / "*.parquet"):
        out = tmp_path / "out.csv"
        rows = predict.score_stream(str(bundled), str(source), str(out), settings=settings)
        assert rows == 30
        scored = pd.read_csv(out)
        assert scored["score"].tolist() == expected["score"].tolist()
        assert scored["part"].tolist() == [1] * 12 + [2] * 18


def test_predict_settings_errors(bundled, tmp_path, monkeypatch, capsys):
    """A bad engine, memory limit or batch size: one line naming the variable, no output."""
    source = new_applications(tmp_path)
    argv = ["predict", "--bundle", str(bundled), "--input", str(source)]
    argv += ["--output", str(tmp_path / "o.csv")]
    for extra, variable in (
        (["--engine", "polars"], "KAIZEN_ENGINE"),
        (["--memory-limit", "lots"], "KAIZEN_MEMORY_LIMIT"),
        (["--batch-rows", "10"], "KAIZEN_BATCH_ROWS"),
    ):
        assert main(argv + extra) == 1
        assert f"error: {variable}: " in capsys.readouterr().err
    monkeypatch.setenv("KAIZEN_MEMORY_LIMIT", "2GiB")
    assert Predict.load().memory_limit == "2GiB"
    assert not (tmp_path / "o.csv").exists()


def test_spark_needs_a_folder_output_and_pyspark(bundled, tmp_path, monkeypatch):
    """--engine spark refuses a CSV output name, and says how to install PySpark."""
    source = new_applications(tmp_path)
    settings = Predict.load(engine="spark")
    with pytest.raises(KaizenError, match=r"o.csv: --engine spark writes a folder of Parquet"):
        predict.score_spark(str(bundled), str(source), str(tmp_path / "o.csv"), settings=settings)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(KaizenError, match=r"PySpark is not installed \(.*make install-spark"):
        predict.score_spark(str(bundled), str(source), str(tmp_path / "o") + "/", settings=settings)


def test_folder_output_never_replaces_other_files(bundled, tmp_path):
    """A folder output replaces an earlier output (Parquet parts), never a folder holding
    anything else, such as the input."""
    source = new_applications(tmp_path)
    with pytest.raises(KaizenError, match=r"refusing to replace a folder that holds other files"):
        predict.score_file(str(bundled), str(source), str(source.parent) + "/")
    assert source.exists()
    out = str(tmp_path / "out") + "/"
    predict.score_file(str(bundled), str(source), out)
    settings = Predict.load(engine="duckdb")
    query = f"SELECT * FROM read_csv('{source}')"
    predict.score_stream(str(bundled), query, out, settings=settings)  # an earlier output goes
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["part-00000.parquet"]
    with pytest.raises(KaizenError, match=r"refusing to replace a folder that holds other files"):
        predict.score_stream(str(bundled), query, str(tmp_path), settings=settings)


def whole_and_streamed(bundled, tmp_path, monkeypatch, source, **options) -> tuple[list, list]:
    """Score `source` read whole (streaming off) and streamed in 7-row tables; the outcome of
    each, output bytes or error message, and how often the streamed run read the file whole."""
    monkeypatch.setattr(predict, "CHUNK", 7)
    real, calls = predict.read_while_loading, []

    def spy(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(predict, "read_while_loading", spy)
    outcomes, wholes = [], []
    for stream in (False, True):
        before = len(calls)
        with monkeypatch.context() as patch:
            if not stream:
                patch.setattr(predict, "stream_raw", lambda *_: None)
            output = tmp_path / f"out-{stream}.csv"
            try:
                predict.score_file(str(bundled), str(source), str(output), **options)
                outcomes.append(output.read_bytes())
            except KaizenError as error:
                outcomes.append(str(error))
                assert not output.exists()
        wholes.append(len(calls) - before)
    return outcomes, wholes


def test_streamed_file_is_the_whole_file_path_byte_for_byte(bundled, tmp_path, monkeypatch):
    """Streamed, a file with missing markers, spaces, unseen categories and reasons gives the
    bytes of the whole-file path, without reading the file whole."""
    frame = credit_frame(50, seed=3)[FEATURES].astype(str)
    frame.loc[4, "Home"] = "castle"
    frame.loc[9, "Income"] = "NA"
    frame.loc[12, "Home"] = " rent"
    frame.loc[20, "Debt"] = ""
    source = new_applications(tmp_path, frame)
    outcomes, wholes = whole_and_streamed(
        bundled, tmp_path, monkeypatch, source, threshold=0.3, reasons=2
    )
    assert outcomes[1] == outcomes[0]
    assert b"Home=castle" in outcomes[0]
    assert wholes == [1, 0]


@pytest.mark.parametrize(
    "case",
    [
        (30, "Home", "rent, city centre"),  # the output must quote it: written again, whole
        (40, "Income", "lots"),  # a bad value in a later table, another column earlier
        (45, "Amount", "1"),  # a ragged row: a parse error
    ],
)
def test_streaming_falls_back_to_the_whole_file(bundled, tmp_path, monkeypatch, case):
    """A value to quote, a bad value or a parse error in a later table: the file is read whole,
    giving the whole-file output or its error message (here: the first bad column in schema
    order, Income at row 41, not the earlier Debt at row 3)."""
    row, column, value = case
    frame = credit_frame(50, seed=3)[FEATURES].astype(str)
    frame.loc[2, "Debt"] = "plenty" if column == "Income" else frame.loc[2, "Debt"]
    frame.loc[row, column] = value
    source = new_applications(tmp_path, frame)
    if column == "Amount":  # drop the row's last two fields
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[row + 1] = ",".join(lines[row + 1].split(",")[:-2]) + "\n"
        source.write_text("".join(lines), encoding="utf-8")
    outcomes, wholes = whole_and_streamed(bundled, tmp_path, monkeypatch, source)
    assert outcomes[1] == outcomes[0]
    assert wholes == [1, 1]
    if column == "Income":
        problem = "column 'Income' holds text 'lots' at data row 41, the model expects a number"
        assert outcomes[0].endswith(problem)
    if column == "Home":
        assert b'"rent, city centre"' in outcomes[0]
