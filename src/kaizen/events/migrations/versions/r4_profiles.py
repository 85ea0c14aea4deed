"""Revision 4: the daily event profiles (`event_profiles`: per model version and UTC day, the
mergeable sketches a monitor window merges instead of reading every event)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Alembic reads these four names, lower case.
# pylint: disable=invalid-name

revision = "4"
down_revision: str | None = "3"
branch_labels: str | None = None
depends_on: str | None = None
# pylint: enable=invalid-name

INFO = sa.table("kaizen_store", sa.column("key", sa.String), sa.column("value", sa.String))


def _store_version(value: str) -> None:
    op.execute(INFO.update().where(INFO.c.key == "store_version").values(value=value))


def upgrade() -> None:
    """Add `event_profiles`."""
    op.create_table(
        "event_profiles",
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("day", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("day_events", sa.Integer, nullable=False),
        sa.Column("profile", sa.LargeBinary, nullable=False),
    )
    _store_version(revision)


def downgrade() -> None:
    """Drop `event_profiles`."""
    op.drop_table("event_profiles")
    _store_version(down_revision or "")
