"""prepare: stratified, seeded train/test split of the reference part."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from kaizen import KaizenError, io
from kaizen.config import PrepareConfig, Params
from kaizen.data import Schema


def split(frame: pd.DataFrame, target: str, config: PrepareConfig) -> tuple[pd.DataFrame, ...]:
    """Stratified split into (train, test), reproducible from the seed."""
    counts = frame[target].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise KaizenError(
            f"prepare: the reference part needs >= 2 rows of each class, has {counts.to_dict()}"
        )
    train, test = train_test_split(
        frame, test_size=config.test_size, stratify=frame[target], random_state=config.seed
    )
    return train.sort_index(), test.sort_index()


def run(params: Params, reference: str, schema_path: str, train: str, test: str) -> dict:
    """Split the reference Parquet into train and test Parquet files."""
    schema = Schema.from_dict(io.read_json(schema_path))
    frame = io.read_parquet(reference)
    train_part, test_part = split(frame, schema.target, params.prepare)
    io.write_parquet(train_part, train)
    io.write_parquet(test_part, test)
    return {"train": len(train_part), "test": len(test_part)}
