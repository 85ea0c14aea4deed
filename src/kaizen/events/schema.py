"""The event database's tables, in one MetaData: prediction events and their feedback, the
store's own key/value information, the monitor's runs and signals, the registered bundles
with their test-split scores, and the daily event profiles (mergeable sketches, kaizen.sketches).

Their version is HEAD, the Alembic revision (`migrations/`) that creates exactly these tables: a
test upgrades an empty database to it and compares the result with METADATA. Times are stored
in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

HEAD = "4"  # the migration revision of these tables: a change below needs a new revision


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


class UtcDateTime(
    sa.TypeDecorator[dt.datetime]
):  # pylint: disable=too-many-ancestors,abstract-method
    """Aware UTC datetimes in and out, whatever the backend keeps (SQLite keeps naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        """Aware -> UTC (naive for SQLite); a naive value is taken as UTC already."""
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(  # pylint: disable-next=unused-argument  # the signature
        self, value: Any, dialect: sa.Dialect
    ) -> dt.datetime | None:
        """Always aware UTC."""
        return None if value is None else utc(value)


METADATA = sa.MetaData()
PREDICTIONS = sa.Table(
    "predictions",
    METADATA,
    sa.Column("prediction_id", sa.String(36), primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.String(64), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),  # PII fields dropped or hashed (pii.py)
    sa.Column("pii_fields", sa.JSON, nullable=False),  # which inputs were dropped or hashed
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("decision", sa.String(8), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("unseen", sa.JSON, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
)
FEEDBACK = sa.Table(
    "feedback",
    METADATA,
    sa.Column(
        "prediction_id",
        sa.String(36),
        sa.ForeignKey("predictions.prediction_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("outcome", sa.SmallInteger, nullable=False),
    sa.Column("observed_at", UtcDateTime, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
)
# `store_version` follows the revision (HEAD), so that a Kaizen from before migrations, which
# reads only this row, refuses a newer store instead of writing to it.
INFO = sa.Table(
    "kaizen_store",
    METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
RUNS = sa.Table(
    "monitor_runs",
    METADATA,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", UtcDateTime, nullable=False, index=True),
    sa.Column("since", UtcDateTime, nullable=True),
    sa.Column("until", UtcDateTime, nullable=False),
    sa.Column("by_time", sa.Boolean, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("labelled", sa.Integer, nullable=False),
    sa.Column("matured_labelled", sa.Integer, nullable=False),
    sa.Column("level", sa.String(24), nullable=False),
    sa.Column("exit_code", sa.SmallInteger, nullable=False),
    sa.Column("estimated_auc", sa.Float, nullable=True),
    sa.Column("estimated_auc_se", sa.Float, nullable=True),
    sa.Column("realised_auc", sa.Float, nullable=True),
    sa.Column("report", sa.JSON, nullable=False),
)
SIGNALS = sa.Table(
    "monitor_signals",
    METADATA,
    sa.Column(
        "run_id",
        sa.Integer,
        sa.ForeignKey("monitor_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("signal", sa.String(128), primary_key=True),
    sa.Column("grp", sa.String(24), nullable=False),
    sa.Column("level", sa.String(24), nullable=False),
    sa.Column("breach", sa.String(24), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("reference", sa.Float, nullable=True),
    sa.Column("warning", sa.Float, nullable=True),
    sa.Column("critical", sa.Float, nullable=True),
    sa.Column("alerted_at", UtcDateTime, nullable=True),
)
BUNDLES = sa.Table(  # the registered models: each bundle.json document, as it was registered
    "bundles",
    METADATA,
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("registered_at", UtcDateTime, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
)
PROFILES = sa.Table(  # one UTC day's events of one model version, profiled (kaizen.sketches)
    "event_profiles",
    METADATA,
    sa.Column("model_version", sa.String(64), primary_key=True),
    sa.Column("day", UtcDateTime, primary_key=True),  # the day's start, 00:00 UTC
    sa.Column("built_at", UtcDateTime, nullable=False),
    sa.Column("events", sa.Integer, nullable=False),  # the version's events profiled
    sa.Column("day_events", sa.Integer, nullable=False),  # every version's: a change = stale
    sa.Column("profile", sa.LargeBinary, nullable=False),  # kaizen.sketches.profile.dumps
)
BUNDLE_SCORES = sa.Table(  # each registered bundle's test split: what its events are judged with
    "bundle_test_scores",
    METADATA,
    sa.Column(
        "version",
        sa.String(64),
        sa.ForeignKey("bundles.version", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("row", sa.Integer, primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("label", sa.SmallInteger, nullable=False),
)
