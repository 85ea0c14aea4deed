"""What revisions 2 onwards do alike: add one table and move `kaizen_store.store_version` to the
revision (upgrade); drop it and move the version back (downgrade). Beside `versions/`, not in it:
Alembic takes every module there for a revision. Released revisions run these as they are: a
change of behaviour is a new function, never an edit. Revision 1 keeps its own frozen copy."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

INFO = sa.table("kaizen_store", sa.column("key", sa.String), sa.column("value", sa.String))


def store_version(value: str) -> None:
    """Set `kaizen_store.store_version`, so that a Kaizen from before migrations refuses the
    store instead of writing to it."""
    op.execute(INFO.update().where(INFO.c.key == "store_version").values(value=value))


def add_table(revision: str, name: str, *columns: sa.Column[Any]) -> None:
    """Upgrade to `revision`: create table `name`, then follow with the store version."""
    op.create_table(name, *columns)
    store_version(revision)


def drop_table(down_revision: str, name: str) -> None:
    """Downgrade to `down_revision`: drop table `name`, then follow with the store version."""
    op.drop_table(name)
    store_version(down_revision)
