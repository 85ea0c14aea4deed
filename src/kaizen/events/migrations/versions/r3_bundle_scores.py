"""Revision 3: each registered bundle's test-split scores and outcomes (`bundle_test_scores`),
so that the monitor judges a model version's events against its own bundle without the
workspace (performance estimation and the realised baselines need them). A bundle registered at
revision 2 has none until `kaizen serve` registers it again (the monitor says so)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Alembic reads these four names, lower case.
# pylint: disable=invalid-name

revision = "3"
down_revision: str | None = "2"
branch_labels: str | None = None
depends_on: str | None = None
# pylint: enable=invalid-name

INFO = sa.table("kaizen_store", sa.column("key", sa.String), sa.column("value", sa.String))


def _store_version(value: str) -> None:
    op.execute(INFO.update().where(INFO.c.key == "store_version").values(value=value))


def upgrade() -> None:
    """Add `bundle_test_scores`."""
    op.create_table(
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
    _store_version(revision)


def downgrade() -> None:
    """Drop `bundle_test_scores`."""
    op.drop_table("bundle_test_scores")
    _store_version("2")
