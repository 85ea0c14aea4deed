"""Revision 3: each registered bundle's test-split scores and outcomes (`bundle_test_scores`),
so that the monitor judges a model version's events against its own bundle without the
workspace (performance estimation and the realised baselines need them). A bundle registered at
revision 2 has none until `kaizen serve` registers it again (the monitor says so)."""

from __future__ import annotations

import sqlalchemy as sa

from kaizen.events.migrations.steps import add_table, drop_table

# Alembic reads these four names, lower case.
# pylint: disable=invalid-name

revision = "3"
down_revision = "2"
branch_labels: str | None = None
depends_on: str | None = None
# pylint: enable=invalid-name


def upgrade() -> None:
    """Add `bundle_test_scores`."""
    add_table(
        revision,
        "bundle_test_scores",
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


def downgrade() -> None:
    """Drop `bundle_test_scores`."""
    drop_table(down_revision, "bundle_test_scores")
