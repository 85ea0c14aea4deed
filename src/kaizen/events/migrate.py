"""The store's tables and their version: created only by `init` (`kaizen events init`), which
is idempotent; the API, the monitor and `kaizen events` refuse a store without them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from kaizen import KaizenError
from kaizen.events.engine import first_line, sqlite_path, writing
from kaizen.events.schema import INFO, METADATA, STORE_VERSION


def init(engine: Engine) -> bool:
    """Create the tables and record the store version; True when they were created now.
    Idempotent; refuses a store of another version."""
    with engine.connect() as conn:
        existed = sa.inspect(conn).has_table(INFO.name)
    with writing(engine) as conn, conn.begin():
        METADATA.create_all(conn, checkfirst=True)
        version = conn.execute(
            sa.select(INFO.c.value).where(INFO.c.key == "store_version")
        ).scalar()
        if version is None:
            conn.execute(INFO.insert().values(key="store_version", value=STORE_VERSION))
        elif version != STORE_VERSION:
            raise KaizenError(
                f"KAIZEN_DB: event store version {version}, this Kaizen reads {STORE_VERSION}"
            )
    return not existed


def check_ready(engine: Engine) -> None:
    """Raise a one-line error unless the store is reachable and initialised."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        raise KaizenError(
            f"KAIZEN_DB: {path}: no such event store: run `kaizen events init` first"
        )
    try:
        with engine.connect() as conn:
            version = conn.execute(
                sa.select(INFO.c.value).where(INFO.c.key == "store_version")
            ).scalar()
    except SQLAlchemyError as exc:
        if "kaizen_store" in str(exc):
            raise KaizenError(
                "KAIZEN_DB: the event store has no tables: run `kaizen events init` first"
            ) from None
        raise KaizenError(f"KAIZEN_DB: event store unreachable ({first_line(exc)})") from None
    if version != STORE_VERSION:
        raise KaizenError(
            f"KAIZEN_DB: event store version {version}, this Kaizen reads {STORE_VERSION}"
        )
