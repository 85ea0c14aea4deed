"""Fixtures: one tiny fitted pipeline shared by the tests that need a model, and an initialised
SQLite event store."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaizen.events import migrate
from kaizen.events.engine import create_engine
from kaizen.stages import bundle, card, drift, evaluate, ingest, prepare, train
from tests.unit.helpers import Artefacts, make_params, run_fairness, write_csv, write_params


@pytest.fixture(name="db")
def fixture_db(tmp_path) -> str:
    """Path of an initialised, empty SQLite store."""
    path = str(tmp_path / "events.db")
    engine = create_engine(path)
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session", name="fitted")
def fixture_fitted(tmp_path_factory) -> Artefacts:
    """Ingest, prepare and train on the synthetic table (read-only for the tests)."""
    paths = Artefacts.under(tmp_path_factory.mktemp("fitted"))
    write_csv(paths.raw)
    write_params(paths.params)
    params = make_params()
    ingest.run(
        params,
        **paths.args("reference current schema"),
        input=str(paths.raw),
        metrics=str(paths.ingest_metrics),
    )
    prepare.run(params, **paths.args("reference schema train test"))
    train.run(params, **paths.args("train schema model info"), metrics=str(paths.train_metrics))
    return paths


@pytest.fixture(scope="session", name="bundled")
def fixture_bundled(fitted, tmp_path_factory) -> Path:
    """The bundle of the fitted pipeline (evaluate, then the bundle stage; read-only)."""
    root = tmp_path_factory.mktemp("bundled")
    params = make_params({"evaluate": {"bootstrap": 20, "permutation_repeats": 1}})
    evaluate.run(
        params,
        **fitted.args("model info schema train test current"),
        output=str(root / "evaluate"),
        scores=str(root / "scores.parquet"),
    )
    carded(params, fitted, root)
    bundle.run(
        params,
        **fitted.args("model info reference"),
        metrics=str(root / "evaluate" / "metrics.json"),
        calibration=str(root / "evaluate" / "plots" / "calibration" / "test.csv"),
        scores=str(root / "scores.parquet"),
        card=str(root / "card.md"),
        card_json=str(root / "card.json"),
        output=str(root / "bundle"),
    )
    return root / "bundle"


CARD_PARAMS = {
    "fairness": {"protected": [{"column": "Home"}], "bootstrap": 20, "stability_refits": 2},
    "model_card": {"intended_use": "tests", "out_of_scope": ["production"]},
}


def carded(params, fitted: Artefacts, root: Path) -> None:
    """drift, fairness and card after evaluate (under `root`), as dvc.yaml runs them; Home is
    declared protected but the fitted model uses it (the flagged case)."""
    declared = make_params(CARD_PARAMS)
    params = params.model_copy(
        update={"fairness": declared.fairness, "model_card": declared.model_card}
    )
    drift.run(
        params,
        **fitted.args("reference current test schema model info"),
        output=str(root / "drift"),
    )
    run_fairness(params, fitted, root, root / "fairness")
    card.run(
        params,
        **fitted.args("model info"),
        data=str(fitted.raw),
        ingest=str(fitted.ingest_metrics),
        training=str(fitted.train_metrics),
        evaluation=str(root / "evaluate" / "metrics.json"),
        importance=str(root / "evaluate" / "plots" / "importance.csv"),
        drift=str(root / "drift" / "metrics.json"),
        fairness=str(root / "fairness" / "report.json"),
        scorecard=str(root / "no-scorecard.csv"),
        jsonschema=str(
            Path(__file__).resolve().parents[2] / "src/kaizen/card/model_card.schema.json"
        ),
        markdown=str(root / "card.md"),
        document=str(root / "card.json"),
    )
