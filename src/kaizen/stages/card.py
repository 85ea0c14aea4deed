"""card: the model card (reports/model_card.md and .json), built from what the pipeline measured,
validated against the JSON schema kept in the repository; the bundle carries it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kaizen import KaizenError
from kaizen.bundle import scoring
from kaizen.card import build as B
from kaizen.card.rendering import markdown as render
from kaizen.commands import runner
from kaizen.config import Params
from kaizen.io import files

HELP = "the model card: reports/model_card.md + .json (--markdown, --document)"
PATHS = (
    "model",
    "info",
    "data",
    "ingest",
    "training",
    "evaluation",
    "importance",
    "drift",
    "fairness",
    "scorecard",
    "jsonschema",
    "markdown",
    "document",
)


def _base(params: Params) -> dict:
    """The base revision's params and evaluate metrics, through git."""
    revision = params.model_card.base if params.model_card else None
    if revision is None:
        return B.base_revision(None, None, None, None)
    try:
        commit: str | None = runner.resolve(revision)
    except KaizenError:
        commit = None
    raw = runner.file_at(commit, "params.yaml") if commit else None
    metrics = runner.file_at(commit, "metrics/evaluate/metrics.json") if commit else None
    return B.base_revision(
        revision, commit, yaml.safe_load(raw) if raw else None, json.loads(metrics or "null")
    )


def run(params: Params, **paths: str) -> dict:
    """Read every measured input, build, validate, write both files."""
    if params.model_card is None:
        raise KaizenError("params.yaml: model_card: missing (intended_use and out_of_scope)")
    loaded = scoring.load(paths["model"], paths["info"])
    scorecard = Path(paths["scorecard"])
    card = B.build(
        B.Sources(
            params=params,
            model=files.read_json(paths["info"]),
            data_sha256=files.file_sha256(paths["data"]),
            ingest=files.read_json(paths["ingest"]),
            training=files.read_json(paths["training"]),
            evaluation=files.read_json(paths["evaluation"]),
            importance=files.read_records(paths["importance"]),
            coefficients=B.coefficients(loaded.pipeline),
            drift=files.read_json(paths["drift"]),
            fairness=files.read_json(paths["fairness"]),
            scorecard=files.read_records(scorecard) if scorecard.is_file() else None,
            base=_base(params),
        )
    )
    B.validate(card, files.read_json(paths["jsonschema"]), paths["document"])
    text = render(card)  # rendered before anything is written: no half card on a failure
    files.write_json(card, paths["document"])
    files.write_text(text, paths["markdown"])
    return {"model_version": card["identity"]["model_version"], "base": card["change_log"]["base"]}
