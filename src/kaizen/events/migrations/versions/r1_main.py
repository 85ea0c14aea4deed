"""Revision 1: the event database before migrations, frozen as it was. Predictions, feedback and
`kaizen_store` (store_version 1) as `kaizen events init` created them, and the monitor tables as
each `kaizen monitor` run created them when missing.

A store made then has some or all of these tables and no `alembic_version`: every table is
created only when missing, so that `kaizen.events.migrate` can stamp such a store at this
revision as it is (after giving it the monitor tables no run made yet).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Alembic reads these four names, lower case.
# pylint: disable=invalid-name

revision = "1"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None
# pylint: enable=invalid-name

TIME = sa.DateTime(timezone=True)


def tables() -> list[sa.Table]:
    """The tables of revision 1, in creation order (never import them from schema.py, which
    moves on)."""
    meta = sa.MetaData()
    sa.Table(
        "kaizen_store",
        meta,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    sa.Table(
        "predictions",
        meta,
        sa.Column("prediction_id", sa.String(36), primary_key=True),
        sa.Column("created_at", TIME, nullable=False, index=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.String(64), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("pii_fields", sa.JSON, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("unseen", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
    )
    sa.Table(
        "feedback",
        meta,
        sa.Column(
            "prediction_id",
            sa.String(36),
            sa.ForeignKey("predictions.prediction_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("outcome", sa.SmallInteger, nullable=False),
        sa.Column("observed_at", TIME, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
    )
    sa.Table(
        "monitor_runs",
        meta,
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", TIME, nullable=False, index=True),
        sa.Column("since", TIME, nullable=True),
        sa.Column("until", TIME, nullable=False),
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
    sa.Table(
        "monitor_signals",
        meta,
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
        sa.Column("alerted_at", TIME, nullable=True),
    )
    return list(meta.sorted_tables)


def upgrade() -> None:
    """Create the missing tables (with their indexes) and the store_version row."""
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    made = tables()
    for table in made:
        if table.name not in present:
            table.create(bind)
    info = made[0]
    version = bind.execute(sa.select(info.c.value).where(info.c.key == "store_version"))
    if version.first() is None:
        op.execute(info.insert().values(key="store_version", value=revision))


def downgrade() -> None:
    """Drop every table."""
    for table in reversed(tables()):
        op.drop_table(table.name)
