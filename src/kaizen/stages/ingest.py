"""ingest: raw CSV -> validated, typed reference and current parts (Parquet) + schema."""

from __future__ import annotations

import logging

from kaizen.pipeline import data as D
from kaizen.io import files, tables
from kaizen.config import Params

HELP = "validate the raw CSV, split it into reference and current parts"
PATHS = ("input", "reference", "current", "schema", "metrics")
log = logging.getLogger(__name__)


def run(  # pylint: disable=redefined-builtin
    params: Params, *, input: str, reference: str, current: str, schema: str, metrics: str
) -> dict:
    """Validate the `input` CSV, split it (data.split), write both parts, the schema and facts."""
    raw = tables.read_raw(input, params.data.separator)
    parts = D.ingest(raw, params.data, input)
    for warning in parts.warnings:
        log.warning("warning: %s", warning)
    files.write_parquet(parts.reference, reference)
    files.write_parquet(parts.current, current)
    files.write_json(parts.schema.to_dict(), schema)
    files.write_json(parts.facts, metrics)
    return parts.facts
