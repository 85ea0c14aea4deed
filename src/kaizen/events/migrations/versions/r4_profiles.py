"""Revision 4: the daily event profiles (`event_profiles`: per model version and UTC day, the
mergeable sketches a monitor window merges instead of reading every event)."""

from __future__ import annotations

import sqlalchemy as sa

from kaizen.events.migrations.steps import add_table, drop_table

# Alembic reads these four names, lower case.
# pylint: disable=invalid-name

revision = "4"
down_revision = "3"
branch_labels: str | None = None
depends_on: str | None = None
# pylint: enable=invalid-name


def upgrade() -> None:
    """Add `event_profiles`."""
    add_table(
        revision,
        "event_profiles",
        sa.Column("model_version", sa.String(64), primary_key=True),
        sa.Column("day", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("day_events", sa.Integer, nullable=False),
        sa.Column("profile", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Drop `event_profiles`."""
    drop_table(down_revision, "event_profiles")
