"""Revision 2: the registered bundles (`bundles`: each bundle.json as it was registered, by
version); the monitor tables now belong to the schema (created by migrations, never by a
monitor run); `kaizen_store.store_version` follows the revision, so that a Kaizen from before
migrations refuses this store instead of writing to it."""

from __future__ import annotations

import sqlalchemy as sa

from kaizen.events.migrations.steps import add_table, drop_table

# Alembic reads these four names, lower case.
# pylint: disable=invalid-name

revision = "2"
down_revision = "1"
branch_labels: str | None = None
depends_on: str | None = None
# pylint: enable=invalid-name


def upgrade() -> None:
    """Add `bundles`."""
    add_table(
        revision,
        "bundles",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    """Drop `bundles`."""
    drop_table(down_revision, "bundles")
