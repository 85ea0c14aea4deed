"""The monitor's sketch mode: a window's inputs summarised from the daily profiles of the event
store (kaizen.sketches), built for the days that lack one, joined as one mixture.

A day is profiled once it is over (its end before now and within the window): its events of
the bundle's model version are read (one day's events in memory at most), engineered as the
monitor engineers them, sketched and stored (`event_profiles`); a stored day whose event count
has changed since (an import, a replay) is rebuilt, and no other. The window's partial days at
either end are read and summarised exactly (their values, no sketch). The days are never
merged (a KLL merge compacts at random): their summaries join as the count-weighted mixture of
their CDFs, so that two runs over the same store and window give the same figures. Memory: the
days' retained items (about 6,000 per numeric column and day at k = 2000, 16 bytes each),
whatever the number of events.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from kaizen.bundle import artifact
from kaizen.drift.statistics import Summary
from kaizen.events import profiles, windows
from kaizen.events.engine import EventEngine
from kaizen.events.profiles import DAY
from kaizen.monitoring.window import Reference
from kaizen.pipeline.ratios import with_ratios
from kaizen.sketches import profile as sketch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where profiles come from: the store, the bundle judging it, its reference, the raw
    numeric inputs to read (PII left out), the outcome window and the sketch size."""

    engine: EventEngine
    bundle: artifact.Bundle
    reference: Reference
    raw_numeric: list[str]
    outcome_days: int
    k: int


def read_part(source: Source, since: dt.datetime, until: dt.datetime) -> pd.DataFrame:
    """The bundle version's events created in [since, until), engineered."""
    frame = windows.read_window(
        source.engine,
        source.raw_numeric,
        source.reference.categorical,
        since=since,
        until=until,
        outcome_days=source.outcome_days,
    )
    frame = frame[(frame["model_version"].astype(str) == source.bundle.version).to_numpy()]
    frame, _ = with_ratios(frame.reset_index(drop=True), source.bundle.ratios)
    return frame


def profile_part(source: Source, since: dt.datetime, until: dt.datetime) -> sketch.Profile:
    """The profile (sketched) of the bundle version's events created in [since, until)."""
    frame = read_part(source, since, until)
    return sketch.build(frame, source.reference.numeric, source.reference.categorical, source.k)


def exact_part(source: Source, since: dt.datetime, until: dt.datetime) -> Summary:
    """The bundle version's events created in [since, until), summarised exactly."""
    frame = read_part(source, since, until)
    return sketch.exact(frame, source.reference.numeric, source.reference.categorical)


def complete_days(since: dt.datetime, until: dt.datetime, now: dt.datetime) -> list[dt.datetime]:
    """The UTC days wholly inside [since, until) and over by `now`."""
    first = profiles.day_start(since)
    if first < since:
        first += DAY
    end = min(until, now)
    days = []
    while first + DAY <= end:
        days.append(first)
        first += DAY
    return days


def daily(
    source: Source, days: list[dt.datetime], now: dt.datetime
) -> Iterator[tuple[sketch.Profile, bool]]:
    """Each day's stored profile, built (or rebuilt when stale) where needed; whether it was."""
    version = source.bundle.version
    stored = profiles.load(source.engine, version, days)
    counts = profiles.day_counts(source.engine, days)
    built = 0
    for day in days:
        found = stored.get(day)
        if found is not None and found.day_events == counts[day]:
            yield sketch.loads(found.profile, f"event_profiles {version} {day.date()}"), False
            continue
        made = profile_part(source, day, day + DAY)
        data = profiles.Stored(made.events, counts[day], sketch.dumps(made))
        profiles.save(source.engine, version, day, data, now)
        built += 1
        yield made, True
    if built:
        log.info("profiled %d day(s) of events of model %s", built, version)


def window_summary(
    source: Source, since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> Summary:
    """The window [since, until) summarised: whole days from their stored profiles, the partial
    days at either end read exactly, joined as one mixture (`sketch.mixture`: deterministic)."""
    days = complete_days(since, until, now)
    if not days:
        return exact_part(source, since, until)
    edges = [(since, days[0]), (days[-1] + DAY, until)]
    parts = [exact_part(source, start, end) for start, end in edges if start < end]
    stored = (profile.summary() for profile, _ in daily(source, days, now))
    return sketch.mixture([*stored, *parts])
