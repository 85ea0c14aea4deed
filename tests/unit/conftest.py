"""Fixtures: one tiny fitted pipeline shared by the tests that need a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaizen.stages import bundle, evaluate, ingest, prepare, train
from tests.unit.helpers import Artefacts, make_params, write_csv, write_params


@pytest.fixture(scope="session", name="fitted")
def fixture_fitted(tmp_path_factory) -> Artefacts:
    """Ingest, prepare and train on the synthetic table (read-only for the tests)."""
    paths = Artefacts.under(tmp_path_factory.mktemp("fitted"))
    write_csv(paths.raw)
    write_params(paths.params)
    params = make_params()
    ingest.run(
        params,
        input=str(paths.raw),
        reference=str(paths.reference),
        current=str(paths.current),
        schema=str(paths.schema),
        metrics=str(paths.ingest_metrics),
    )
    prepare.run(
        params,
        reference=str(paths.reference),
        schema=str(paths.schema),
        train=str(paths.train),
        test=str(paths.test),
    )
    train.run(
        params,
        train=str(paths.train),
        schema=str(paths.schema),
        model=str(paths.model),
        info=str(paths.info),
        metrics=str(paths.train_metrics),
    )
    return paths


@pytest.fixture(scope="session", name="bundled")
def fixture_bundled(fitted, tmp_path_factory) -> Path:
    """The bundle of the fitted pipeline (evaluate, then the bundle stage; read-only)."""
    root = tmp_path_factory.mktemp("bundled")
    params = make_params({"evaluate": {"bootstrap": 20, "permutation_repeats": 1}})
    evaluate.run(
        params,
        model=str(fitted.model),
        info=str(fitted.info),
        schema=str(fitted.schema),
        train=str(fitted.train),
        test=str(fitted.test),
        current=str(fitted.current),
        output=str(root / "evaluate"),
        scores=str(root / "scores.parquet"),
    )
    bundle.run(
        params,
        model=str(fitted.model),
        info=str(fitted.info),
        metrics=str(root / "evaluate" / "metrics.json"),
        calibration=str(root / "evaluate" / "plots" / "calibration" / "test.csv"),
        scores=str(root / "scores.parquet"),
        reference=str(fitted.reference),
        output=str(root / "bundle"),
    )
    return root / "bundle"
