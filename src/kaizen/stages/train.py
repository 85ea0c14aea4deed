"""train: fit the one model pipeline on the train split and save it with its metadata."""

from __future__ import annotations

import logging

from kaizen.io import files
from kaizen.pipeline import model as M
from kaizen.config import Params
from kaizen.fairness.groups import check_columns, protected_inputs
from kaizen.pipeline.data import Schema

HELP = "fit and save the model pipeline (+ its metadata JSON: --info)"
PATHS = ("train", "schema", "model", "info", "metrics")
log = logging.getLogger(__name__)


def run(params: Params, *, train: str, schema: str, model: str, info: str, metrics: str) -> dict:
    """Fit, then write the pipeline (joblib), its metadata (JSON) and training facts."""
    config = params.train
    layout = Schema.from_dict(files.read_json(schema))
    check_columns(layout.features, params.fairness, schema, config.excluded)
    trained = M.train(files.read_parquet(train), layout, config)
    for name in trained.skipped:
        log.warning("ratio %r skipped: its columns are not numeric columns of this data", name)
    wide = trained.facts["high_cardinality"]
    for name, count in wide.items():
        log.warning(
            "warning: column %r has %s distinct values in %s training rows "
            "(> train.categories.warn_share): an identifier or free text? Drop it with "
            "data.columns: {%s: drop}",
            name,
            f"{count:,}",
            f"{trained.facts['rows']:,}",
            name,
        )
    metadata = {
        "schema": layout.to_dict(),
        "ratios_skipped": trained.skipped,
        "high_cardinality": wide,
        "train_sha256": files.file_sha256(train),
        "train_rows": trained.facts["rows"],
        "params": config.model_dump(mode="json"),
        "versions": M.library_versions(),
        "categories": M.known_categories(trained.pipeline),
        # protected: never a reason code (bundle.reasons); excluded: kept out of the model
        "reference": {
            **trained.reference,
            "protected": protected_inputs(layout, config, params.fairness),
        },
        "protected": params.fairness.columns,
    }
    files.save_model(trained.pipeline, model)
    metadata["model_sha256"] = files.file_sha256(model)  # checked by whoever loads the model
    files.write_json(metadata, info)
    facts = {k: v for k, v in trained.facts.items() if k not in ("fit_seconds", "high_cardinality")}
    files.write_json(facts, metrics)
    return trained.facts
