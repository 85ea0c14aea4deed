"""prepare: stratified, seeded train/test split of the reference part."""

from __future__ import annotations

from kaizen.io import files
from kaizen.config import Params
from kaizen.pipeline.data import Schema, split_train_test

HELP = "stratified train/test split of the reference part"
PATHS = ("reference", "schema", "train", "test")


def run(params: Params, *, reference: str, schema: str, train: str, test: str) -> dict:
    """Split the reference Parquet into train and test Parquet files."""
    target = Schema.from_dict(files.read_json(schema)).target
    config = params.prepare
    parts = split_train_test(files.read_parquet(reference), target, config.test_size, config.seed)
    files.write_parquet(parts[0], train)
    files.write_parquet(parts[1], test)
    return {"train": len(parts[0]), "test": len(parts[1])}
