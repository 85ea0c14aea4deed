"""Fixtures: one tiny fitted pipeline shared by the tests that need a model."""

from __future__ import annotations

import pytest

from kaizen.stages import ingest, prepare, train
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
        str(paths.raw),
        str(paths.reference),
        str(paths.current),
        str(paths.schema),
        str(paths.ingest_metrics),
    )
    prepare.run(params, str(paths.reference), str(paths.schema), str(paths.train), str(paths.test))
    train.run(
        params,
        str(paths.train),
        str(paths.schema),
        str(paths.model),
        str(paths.info),
        str(paths.train_metrics),
    )
    return paths
