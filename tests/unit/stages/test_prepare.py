"""prepare: stratified, seeded train/test split."""

import pandas as pd

from kaizen.io import files
from kaizen.stages import prepare
from tests.unit.helpers import make_params


def frame(rows: int = 40) -> pd.DataFrame:
    """A target with 25 % positives, indexed by data row."""
    return pd.DataFrame(
        {"x": range(rows), "y": [1 if i % 4 == 0 else 0 for i in range(rows)]},
        index=pd.RangeIndex(1, rows + 1, name="row"),
    )


def test_run_writes_train_and_test(tmp_path):
    """run reads the reference and schema and writes both parts."""
    files.write_parquet(frame(), tmp_path / "ref.parquet")
    files.write_json(
        {"target": "y", "positive": "1", "numeric": ["x"], "categorical": []}, tmp_path / "s.json"
    )
    result = prepare.run(
        make_params(),
        reference=str(tmp_path / "ref.parquet"),
        schema=str(tmp_path / "s.json"),
        train=str(tmp_path / "train.parquet"),
        test=str(tmp_path / "test.parquet"),
    )
    assert result == {"train": 30, "test": 10}
    train = files.read_parquet(tmp_path / "train.parquet")
    test = files.read_parquet(tmp_path / "test.parquet")
    assert sorted(train.index.tolist() + test.index.tolist()) == list(range(1, 41))
