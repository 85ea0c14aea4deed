"""Alembic's entry point, executed by Alembic for every command `kaizen.events.migrate` runs: it
migrates the connection `migrate` opened (inside its transaction), never a URL of its own."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from kaizen.events.schema import METADATA


def run_migrations(connection: Connection) -> None:
    """Online migrations on the caller's connection, compared against METADATA."""
    context.configure(connection=connection, target_metadata=METADATA)
    with context.begin_transaction():
        context.run_migrations()


run_migrations(context.config.attributes["connection"])
