"""The registered bundles: each deployed model's bundle.json, stored as it is under its version,
so that events (which carry `model_version`) can be judged against the bundle that made them.

A version is registered once: the same document again is a no-op, a different one under the
same version is an error (a version names one bundle for ever).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from kaizen import KaizenError
from kaizen.events.engine import writing
from kaizen.events.schema import BUNDLES


def _document(metadata: Mapping[str, Any]) -> tuple[str, float, dict[str, Any]]:
    """(version, threshold, the document as JSON gives it back); one-line errors. The
    threshold is a number or, as bundle.json has it, an object whose `value` is one."""
    version, threshold = metadata.get("version"), metadata.get("threshold")
    if not isinstance(version, str) or not 0 < len(version) <= 64:
        raise KaizenError("bundle.json: 'version' must be a string of 1 to 64 characters")
    if isinstance(threshold, Mapping):
        threshold = threshold.get("value")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise KaizenError(
            f"bundle.json: bundle {version}: 'threshold' must be a number or have a number "
            "'value'"
        )
    try:
        document: dict[str, Any] = orjson.loads(orjson.dumps(metadata))
    except TypeError as exc:
        raise KaizenError(f"bundle.json: bundle {version}: not JSON ({exc})") from None
    return version, float(threshold), document


def register(engine: Engine, metadata: dict[str, Any]) -> None:
    """Store a bundle.json document under its `version` (idempotent on the version); a
    different document under a registered version is a KaizenError."""
    version, threshold, document = _document(metadata)
    for attempt in range(2):
        stored = read(engine, [version]).get(version)
        if stored is not None:
            if stored != document:
                raise KaizenError(
                    f"bundle.json: bundle {version} is already registered with another "
                    "document: give the new bundle a new version"
                )
            return
        try:
            with writing(engine) as conn, conn.begin():
                conn.execute(
                    BUNDLES.insert().values(
                        version=version,
                        registered_at=dt.datetime.now(dt.timezone.utc),
                        threshold=threshold,
                        metadata=document,
                    )
                )
            return
        except IntegrityError:  # registered meanwhile by another process: compare with it
            if attempt:
                raise


def read(engine: Engine, versions: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The registered documents of these versions, by version (unknown versions left out)."""
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    document = BUNDLES.c["metadata"]
    query = sa.select(BUNDLES.c.version, document).where(BUNDLES.c.version.in_(wanted))
    with engine.connect() as conn:
        return {row.version: row[1] for row in conn.execute(query)}
