"""ingest: raw CSV -> validated, typed reference and current parts (Parquet) + schema."""

from __future__ import annotations

from kaizen import KaizenError
from kaizen import data as D
from kaizen import io
from kaizen.config import Params


def run(
    params: Params, source: str, reference: str, current: str, schema_path: str, metrics: str
) -> dict:
    """Validate `source`, split it by row order, write both parts, the schema and facts."""
    config = params.data
    raw = D.read_raw(source, config.separator)
    if config.target not in raw.columns:
        raise KaizenError(
            f"{source}: target column {config.target!r} not found (data.target in params.yaml)"
        )
    schema = D.infer_schema(raw, config, source)
    typed = D.clean(raw, schema, config, source)
    ref, cur = D.split_reference_current(typed, config.current_start)
    dropped = {"reference": 0, "current": 0}
    if config.drop_duplicates:
        ref, dropped["reference"] = D.drop_duplicate_rows(ref)
        cur, dropped["current"] = D.drop_duplicate_rows(cur)
    if ref[schema.target].nunique() < 2:
        raise KaizenError(
            f"{source}: the reference part (rows before data.current_start) has a single class"
        )
    facts = {
        "rows": len(typed),
        "numeric": len(schema.numeric),
        "categorical": len(schema.categorical),
        "reference": {**D.summarise(ref, schema), "duplicates_dropped": dropped["reference"]},
        "current": {**D.summarise(cur, schema), "duplicates_dropped": dropped["current"]},
    }
    io.write_parquet(ref, reference)
    io.write_parquet(cur, current)
    io.write_json(schema.to_dict(), schema_path)
    io.write_json(facts, metrics)
    return facts
