"""The registered bundles: each deployed model's bundle.json, stored as it is under its version,
with its test split's scores and outcomes (`bundle_test_scores`), so that events (which carry
`model_version`) can be judged against the bundle that made them, without the workspace.

A version is registered once: the same document again is a no-op (except that test scores
missing since revision 2 are added), a different one under the same version is an error (a
version names one bundle for ever).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from kaizen import KaizenError
from kaizen.events.engine import writing
from kaizen.events.schema import BUNDLE_SCORES, BUNDLES, PREDICTIONS

SCORE_COLUMNS = ("row", "score", "label")


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


def _score_rows(version: str, scores: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The test split's rows to store; one-line errors for a malformed frame."""
    if scores is None:
        return []
    missing = [name for name in SCORE_COLUMNS if name not in scores]
    if missing:
        raise KaizenError(f"test scores of bundle {version}: missing column(s) {missing}")
    labels = scores["label"].to_numpy()
    if len(scores) and not set(pd.unique(labels)) <= {0, 1}:
        raise KaizenError(f"test scores of bundle {version}: 'label' must be 0 or 1")
    return [
        {"version": version, "row": int(row), "score": float(score), "label": int(label)}
        for row, score, label in zip(scores["row"], scores["score"], labels)
    ]


def _insert_scores(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert test-score rows (none: nothing)."""
    if rows:
        conn.execute(BUNDLE_SCORES.insert(), rows)


def register(
    engine: Engine, metadata: dict[str, Any], test_scores: pd.DataFrame | None = None
) -> None:
    """Store a bundle.json document under its `version` with its test split's `test_scores`
    (row, score, label), idempotent on the version; a different document under a registered
    version is a KaizenError. A version registered without scores (revision 2) gets them."""
    version, threshold, document = _document(metadata)
    rows = _score_rows(version, test_scores)
    for attempt in range(2):
        stored = read(engine, [version]).get(version)
        if stored is not None:
            if stored != document:
                raise KaizenError(
                    f"bundle.json: bundle {version} is already registered with another "
                    "document: give the new bundle a new version"
                )
            if rows and read_scores(engine, version).empty:
                with writing(engine) as conn, conn.begin():
                    _insert_scores(conn, rows)
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
                _insert_scores(conn, rows)
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


def read_scores(engine: Engine, version: str) -> pd.DataFrame:
    """The registered test-split rows of `version` (row, score, label; empty when none)."""
    query = (
        sa.select(BUNDLE_SCORES.c.row, BUNDLE_SCORES.c.score, BUNDLE_SCORES.c.label)
        .where(BUNDLE_SCORES.c.version == version)
        .order_by(BUNDLE_SCORES.c.row)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
    return pd.DataFrame(
        {
            "row": pd.Series([r[0] for r in found], dtype="int64"),
            "score": pd.Series([r[1] for r in found], dtype="float64"),
            "label": pd.Series([r[2] for r in found], dtype="int64"),
        }
    )


def latest_version(engine: Engine, until: dt.datetime) -> str | None:
    """The model version of the newest event created before `until` (None: no event)."""
    query = (
        sa.select(PREDICTIONS.c.model_version)
        .where(PREDICTIONS.c.created_at < until)
        .order_by(PREDICTIONS.c.created_at.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return None if found is None else str(found)
