"""ingest: raw CSV -> typed reference/current parts, schema and facts."""

import pandas as pd
import pytest

from kaizen import KaizenError, cli
from kaizen.io import files
from kaizen.stages import ingest
from tests.unit.helpers import credit_frame, make_params, write_csv

OUTPUTS = ("reference.parquet", "current.parquet", "schema.json", "ingest.json")


def run(tmp_path, update=None, frame=None) -> dict:
    """Run ingest on a CSV of `frame` (default: the synthetic table) into tmp_path."""
    source = write_csv(tmp_path / "data.csv", frame)
    paths = dict(zip(ingest.PATHS[1:], (str(tmp_path / name) for name in OUTPUTS)))
    return ingest.run(make_params(update), input=str(source), **paths)


def test_ingest_writes_parts_schema_and_facts(tmp_path):
    """A 60-row table split 70/30 by row order, typed, with its schema and facts."""
    facts = run(tmp_path)
    reference = files.read_parquet(tmp_path / "reference.parquet")
    current = files.read_parquet(tmp_path / "current.parquet")
    assert list(reference.index) == list(range(1, 43))
    assert list(current.index) == list(range(43, 61))
    assert reference["Income"].dtype == "float64"
    assert set(reference["Status"]) == {0, 1}
    raw = credit_frame()
    assert reference["Status"].sum() == (raw["Status"].iloc[:42] == "bad").sum()
    schema = files.read_json(tmp_path / "schema.json")
    assert schema == {
        "target": "Status",
        "positive": "bad",
        "numeric": ["Income", "Debt", "Amount", "Price"],
        "categorical": ["Home"],
    }
    assert files.read_json(tmp_path / "ingest.json") == facts
    assert facts["rows"] == 60 and facts["numeric"] == 4 and facts["categorical"] == 1
    assert facts["reference"]["rows"] == 42 and facts["current"]["rows"] == 18
    assert facts["reference"]["duplicates_dropped"] == 0


def test_ingest_drops_duplicates_per_part(tmp_path):
    """Exact duplicate rows are removed within each part (when asked) and counted."""
    frame = credit_frame()
    frame = pd.concat([frame.iloc[:40], frame.iloc[[0, 1]], frame.iloc[40:]], ignore_index=True)
    facts = run(tmp_path, {"data": {"split": {"by": "row", "start": 43}}}, frame)
    assert facts["reference"]["duplicates_dropped"] == 2
    assert facts["reference"]["rows"] == 40
    update = {"data": {"split": {"by": "row", "start": 43}, "drop_duplicates": False}}
    facts = run(tmp_path, update, frame)
    assert facts["reference"]["duplicates_dropped"] == 0
    assert facts["reference"]["rows"] == 42


def test_ingest_without_current_part(tmp_path):
    """split: {by: none} keeps every row in the reference and writes an empty current."""
    facts = run(tmp_path, {"data": {"split": {"by": "none"}}})
    assert facts["current"] == {
        "rows": 0,
        "positive_rate": None,
        "missing_share": None,
        "duplicates_dropped": 0,
    }
    assert files.read_parquet(tmp_path / "current.parquet").empty


@pytest.mark.parametrize(
    ("update", "frame", "problem"),
    [
        ({"data": {"target": "Outcome"}}, None, "target column 'Outcome' not found"),
        (
            {"data": {"split": {"by": "row", "start": 10}}},
            credit_frame().sort_values("Status", kind="stable"),
            "the reference part (rows before the data.split point) has a single class",
        ),
    ],
)
def test_ingest_errors_write_nothing(tmp_path, update, frame, problem):
    """A bad target or a one-class reference part: error, no output file."""
    with pytest.raises(KaizenError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        run(tmp_path, update, frame)
    assert not any((tmp_path / name).exists() for name in OUTPUTS)


def test_ingest_warns_on_a_lopsided_split(tmp_path, capsys):
    """A split leaving under 20 % of the rows on one side succeeds with a warning on stderr."""
    with cli.diagnostics("ingest"):
        facts = run(tmp_path, {"data": {"split": {"by": "row", "start": 55}}})
    assert facts["current"]["rows"] == 6
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert (
        err[0].startswith("kaizen ingest: warning: ")
        and "data.split {by: row, start: 55}" in err[0]
    )
    assert "leaves 6 of 60 rows (10%) in the current part, under 20%" in err[0]
    with cli.diagnostics("ingest"):
        run(tmp_path)
    assert capsys.readouterr().err == ""


def test_schema_is_inferred_on_the_reference_part_only(tmp_path):
    """A column numeric in the reference part stays numeric even when the current part would
    have tipped it to categorical as a whole; its text in the current part is then an error
    naming the row, not a silent NaN."""
    frame = credit_frame().astype({"Debt": object})
    frame.loc[42:, "Debt"] = "unknown"  # 18 current rows of text: 30 % of the whole column
    with pytest.raises(KaizenError) as caught:
        run(tmp_path, frame=frame)
    assert str(caught.value) == (
        f"{tmp_path / 'data.csv'}: column 'Debt' is numeric but holds text in 18 row(s), e.g. "
        "'unknown' at data row 43"
    )
    assert not any((tmp_path / name).exists() for name in OUTPUTS)
    facts = run(tmp_path, {"data": {"columns": {"Debt": "drop"}}}, frame)
    assert facts["numeric"] == 3


def test_a_column_empty_in_the_reference_part_is_an_error(tmp_path):
    """A column empty in the reference part is reported as such, even if current fills it."""
    frame = credit_frame().assign(Channel=[None] * 42 + ["web"] * 18)
    with pytest.raises(KaizenError, match=r"\(reference part\): column 'Channel' is empty"):
        run(tmp_path, frame=frame)


def test_ingest_accepts_an_unlabelled_current_part(tmp_path):
    """Recent applications without an outcome after current_start: NaN target, counted."""
    frame = credit_frame()
    frame.loc[45:, "Status"] = None
    facts = run(tmp_path, frame=frame)
    current = files.read_parquet(tmp_path / "current.parquet")
    assert current["Status"].isna().sum() == 15 and current["Status"].dtype == "float64"
    assert facts["current"]["unlabelled"] == 15
    assert facts["current"]["positive_rate"] == pytest.approx(current["Status"].mean())
    assert files.read_parquet(tmp_path / "reference.parquet")["Status"].dtype == "int8"
    assert "unlabelled" not in facts["reference"]


def test_ingest_rejects_an_unlabelled_reference_row(tmp_path):
    """A missing outcome before current_start names its data row; nothing is written."""
    frame = credit_frame()
    frame.loc[4, "Status"] = None
    with pytest.raises(KaizenError, match="missing at data row 5 of the reference part"):
        run(tmp_path, frame=frame)
    assert not any((tmp_path / name).exists() for name in OUTPUTS)
