"""The daily event profiles (`event_profiles`): per model version and UTC day, the profile bytes
(kaizen.sketches.profile) of that day's events, written once the day is over and read by a
monitor window in sketch mode.

A day's profile records how many events of every version the day held when it was built
(`day_events`); `day_counts` counts them again from the `created_at` index alone (no event row
read), so that a day that received events since (an import, a replay) is seen as stale and
rebuilt rather than merged as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kaizen.events.schema import PREDICTIONS, PROFILES, utc

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Stored:
    """One stored day profile: its events, the day's events of every version when it was
    built, and the profile bytes."""

    events: int
    day_events: int
    profile: bytes


def day_start(value: dt.datetime) -> dt.datetime:
    """00:00 UTC of the day holding `value`."""
    return utc(value).replace(hour=0, minute=0, second=0, microsecond=0)


def day_counts(engine: Engine, days: list[dt.datetime]) -> dict[dt.datetime, int]:
    """Events of every version created in each UTC day (one index range count per day)."""
    out = {}
    with engine.connect() as conn:
        for day in days:
            query = sa.select(sa.func.count()).where(
                PREDICTIONS.c.created_at >= day, PREDICTIONS.c.created_at < day + DAY
            )
            out[day] = int(conn.execute(query).scalar() or 0)
    return out


def load(engine: Engine, version: str, days: list[dt.datetime]) -> dict[dt.datetime, Stored]:
    """The stored profiles of `version` for those days (days without one are absent)."""
    if not days:
        return {}
    query = sa.select(PROFILES).where(PROFILES.c.model_version == version, PROFILES.c.day.in_(days))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return {
        row["day"]: Stored(row["events"], row["day_events"], bytes(row["profile"])) for row in rows
    }


def save(
    engine: Engine,
    version: str,
    day: dt.datetime,
    stored: Stored,
    built_at: dt.datetime,
) -> None:
    """Store (or replace) one day's profile, in one transaction."""
    key = (PROFILES.c.model_version == version) & (PROFILES.c.day == day)
    with engine.begin() as conn:
        conn.execute(PROFILES.delete().where(key))
        conn.execute(
            PROFILES.insert().values(
                model_version=version,
                day=day,
                built_at=built_at,
                events=stored.events,
                day_events=stored.day_events,
                profile=stored.profile,
            )
        )
