"""prepare: stratified, seeded train/test split."""

import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen import files
from kaizen.data import split_train_test
from kaizen.stages import prepare
from tests.unit.helpers import make_params


def frame(rows: int = 40) -> pd.DataFrame:
    """A target with 25 % positives, indexed by data row."""
    return pd.DataFrame(
        {"x": range(rows), "y": [1 if i % 4 == 0 else 0 for i in range(rows)]},
        index=pd.RangeIndex(1, rows + 1, name="row"),
    )


def test_split_is_stratified_sorted_and_seeded():
    """Sizes follow test_size, class shares are kept, order is by row, seed reproduces."""
    data = frame()
    train, test = split_train_test(data, "y", 0.25, 1)
    assert len(train) == 30 and len(test) == 10
    assert test["y"].sum() in (2, 3)
    assert train["y"].sum() + test["y"].sum() == 10
    assert train.index.is_monotonic_increasing and test.index.is_monotonic_increasing
    assert set(train.index).isdisjoint(test.index)
    again, _ = split_train_test(data, "y", 0.25, 1)
    assert again.index.equals(train.index)
    other, _ = split_train_test(data, "y", 0.25, 2)
    assert not other.index.equals(train.index)


def test_split_needs_two_rows_per_class():
    """A class with fewer than two rows cannot be stratified."""
    data = frame(8)
    data["y"] = [1, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(KaizenError, match=r"needs >= 2 rows of each class, has \{0: 7, 1: 1\}"):
        split_train_test(data, "y", 0.25, 42)
    data["y"] = 0
    with pytest.raises(KaizenError, match="needs >= 2 rows of each class"):
        split_train_test(data, "y", 0.25, 42)


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
