"""The monitor's sketch mode: a window's input profile from the daily profiles of the event store
(kaizen.sketches), built for the days that lack one, then merged.

A day is profiled once it is over (its end before now and within the window): its events of
the bundle's model version are read (one day's events in memory at most), engineered as the
monitor engineers them, sketched and stored (`event_profiles`); a stored day whose event count
has changed since (an import, a replay) is rebuilt. The window's partial days at either end are
read and sketched on the fly. The merged profile's memory is that of the sketches, whatever the
number of events.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from kaizen.bundle import artifact
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


def profile_part(source: Source, since: dt.datetime, until: dt.datetime) -> sketch.Profile:
    """The profile of the bundle version's events created in [since, until), read exactly."""
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
    return sketch.build(frame, source.reference.numeric, source.reference.categorical, source.k)


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


def window_profile(
    source: Source, since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> sketch.Profile:
    """The merged profile of the window [since, until): whole days from their stored profiles,
    the partial days at either end read exactly."""
    days = complete_days(since, until, now)
    if not days:
        return profile_part(source, since, until)
    edges = [(since, days[0]), (days[-1] + DAY, until)]
    parts = [profile_part(source, start, end) for start, end in edges if start < end]
    stored = (profile for profile, _ in daily(source, days, now))
    return sketch.merge(itertools.chain(stored, parts), source.k)
