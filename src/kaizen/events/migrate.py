"""The event database's version: Alembic migrations shipped in `migrations/`, run on the
engine's own connection (no alembic.ini).

`upgrade` (`kaizen events upgrade`, and `kaizen events init`) brings any store to HEAD in one
transaction: an empty database gets every table; a store made by `kaizen events init` before
migrations existed (its tables, `kaizen_store` version 1, no `alembic_version`) is recognised,
given the monitor tables if no monitor run made them, stamped at revision 1, then migrated.
`require_head` is how the API, the monitor and `kaizen events export|purge|check` refuse a
store at any other revision: one line, naming the command that fixes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kaizen import KaizenError
from kaizen.events.engine import create_sqlite_file, first_line, sqlite_path, writing
from kaizen.events.schema import HEAD, INFO

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
SCRIPTS = "kaizen.events:migrations"  # Alembic's script location, as a package resource
LEGACY = "1"  # kaizen_store.store_version of a store made before migrations (= revision 1)
LOCK = 0x4B41495A454E  # PostgreSQL advisory lock: one upgrade at a time
# Alembic's version table, read with SQLAlchemy: `require_head` (the API, the monitor, events
# export|purge|check) imports no Alembic, a quarter of a second of the monitor's start-up.
VERSION = sa.table("alembic_version", sa.column("version_num"))


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revision found (None: no tables) and the one left."""

    before: str | None
    after: str

    @property
    def created(self) -> bool:
        """True when the tables were created now."""
        return self.before is None


def config(conn: Connection | None = None) -> Config:
    """Alembic's configuration, without a file: the scripts, and the connection to migrate."""
    # pylint: disable-next=import-outside-toplevel  # migrating only (see VERSION)
    from alembic.config import Config

    settings = Config()
    settings.set_main_option("script_location", SCRIPTS)
    if conn is not None:
        settings.attributes["connection"] = conn
    return settings


def revisions() -> list[str]:
    """Every revision this Kaizen knows, oldest first."""
    # pylint: disable-next=import-outside-toplevel  # migrating only (see VERSION)
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def stamped(conn: Connection) -> str | None:
    """The revision in Alembic's version table (None: no table, or no row)."""
    if not sa.inspect(conn).has_table(VERSION.name):
        return None
    found = conn.execute(sa.select(VERSION.c.version_num)).scalars().all()
    if len(found) > 1:
        raise KaizenError(f"KAIZEN_DB: event store at several revisions ({', '.join(found)})")
    return found[0] if found else None


def current(conn: Connection) -> str | None:
    """The store's revision: Alembic's, else `kaizen_store`'s version for a store made before
    migrations; None when it has neither (no tables)."""
    revision = stamped(conn)
    if revision is not None or not sa.inspect(conn).has_table(INFO.name):
        return revision
    version = conn.execute(sa.select(INFO.c.value).where(INFO.c.key == "store_version"))
    return version.scalar()


def upgrade(engine: Engine) -> Upgrade:
    """Migrate the store to HEAD (idempotent), in one transaction; a one-line error for a store
    this Kaizen does not know (written by a newer one) or a failure (then nothing changed)."""
    # pylint: disable-next=import-outside-toplevel  # migrating only (see VERSION)
    from alembic import command

    legacy = False
    path = sqlite_path(engine)
    if path is not None:
        create_sqlite_file(path)  # 0600; every connection opens it read-write, never creates
    try:
        with writing(engine) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK)))
            before = current(conn)
            if before is not None and before not in revisions():
                raise KaizenError(f"KAIZEN_DB: event store at revision {before}, {_unknown()}")
            settings = config(conn)
            if before is not None and stamped(conn) is None:
                legacy = True
                command.upgrade(settings, LEGACY)  # its missing tables, then the stamp
            command.upgrade(settings, "head")
    except SQLAlchemyError as exc:
        raise KaizenError(f"KAIZEN_DB: event store not upgraded ({first_line(exc)})") from None
    if legacy:  # said once committed: a failed upgrade is its one error line (nothing changed)
        log.info("event store made before migrations: stamped at revision %s", LEGACY)
    return Upgrade(before, HEAD)


def require_head(engine: Engine) -> None:
    """A one-line error unless the store exists, answers and is at HEAD."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        raise KaizenError(f"KAIZEN_DB: {path}: no such event store: run `kaizen events init` first")
    try:
        with engine.connect() as conn:
            found = current(conn)
    except SQLAlchemyError as exc:
        raise KaizenError(f"KAIZEN_DB: event store unreachable ({first_line(exc)})") from None
    if found is None:
        raise KaizenError(
            "KAIZEN_DB: the event store has no tables: run `kaizen events init` first"
        )
    if found != HEAD and found not in revisions():
        raise KaizenError(f"KAIZEN_DB: event store at revision {found}, {_unknown()}")
    if found != HEAD:
        raise KaizenError(
            f"KAIZEN_DB: event store at revision {found}, this Kaizen needs {HEAD}: run "
            "`kaizen events upgrade`"
        )


def _unknown() -> str:
    """Why a revision this Kaizen does not know cannot be used."""
    return f"unknown to this Kaizen (it writes revision {HEAD}): use the Kaizen that wrote it"
