"""A profile: one day's (or one partition's) events summarised so that profiles merge, and a
monitor window reads the stored profiles of its days instead of every event.

Per numeric column (inputs and engineered ratios) and for the score: a KLL quantile sketch
(Apache DataSketches) of the non-missing values, plus the missing count; per categorical
column: exact level counts plus the missing count (a credit application's categories have a
handful of levels; past MAX_LEVELS the rarest are pooled under OTHER, which the drift code
counts as unseen); the decisions' counts and the event count. Any rank of a sketch (hence any
share below a value, any bin share, the KS distance) is off by at most `rank_error(k)` with
99 % confidence (k = 1000: 0.28 %; k = 200: 1.33 %), whatever the number of events.

Building a sketch (`build`, `merge`) compacts at random (an unseedable random bit in the C++
library); reading a built one (`weighted`, `summary`) is deterministic. So a window is never
merged: `mixture` joins its parts' summaries exactly (the count-weighted mixture of their
CDFs), and a window judged on the same stored profiles gives the same figures every run.

Profiles travel as bytes (`dumps` / `loads`): a JSON document holding each sketch's own
serialisation, so that a profile built by Spark executors, by `kaizen events profile` or by
another Kaizen version with the same format reads the same.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd
from datasketches import kll_doubles_sketch

from kaizen import KaizenError
from kaizen.drift.statistics import Distinct, Summarised, Summary

FORMAT = 1  # the serialised document's version: a change of layout needs a new number
MAX_LEVELS = 1_000  # distinct levels kept per categorical column; the rarest pooled beyond
OTHER = "\x00other"  # the pooled levels' key (no real level starts with a NUL character)
SCORE = "score"


def rank_error(k: int) -> float:
    """The KLL sketch's normalised rank error at 99 % confidence (DataSketches' bound)."""
    return float(kll_doubles_sketch.get_normalized_rank_error(k, False))


def _error(sketch: kll_doubles_sketch) -> float:
    """A sketch's rank error: 0 while it holds every value (not yet compacted)."""
    return rank_error(sketch.k) if sketch.is_estimation_mode() else 0.0


def _sketch(values: np.ndarray, k: int) -> kll_doubles_sketch:
    """A KLL sketch of the non-missing values."""
    sketch = kll_doubles_sketch(k)
    present = values[~np.isnan(values)]
    if present.size:
        sketch.update(np.ascontiguousarray(present, dtype="float64"))
    return sketch


@dataclass
class Profile:  # pylint: disable=too-many-instance-attributes
    """Mergeable summary of some events (see the module's docstring)."""

    k: int
    events: int = 0
    numeric: dict[str, kll_doubles_sketch] = field(default_factory=dict)
    categorical: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    score: kll_doubles_sketch | None = None
    decisions: dict[str, int] = field(default_factory=dict)

    def summary(self) -> Summary:
        """The profile as the drift code's current sample (numeric: the sketch's retained items
        and weights; categorical: the level counts)."""
        columns = {
            name: Summarised(
                rows=self.events,
                values=weighted(sketch),
                rank_error=_error(sketch),
            )
            for name, sketch in self.numeric.items()
        }
        for name, levels in self.categorical.items():
            columns[name] = Summarised(rows=self.events, levels=dict(levels))
        return Summary(columns, self.events)

    def score_sample(self) -> Summarised | None:
        """The score as a summarised sample (None when the profile has no score)."""
        if self.score is None:
            return None
        return Summarised(self.events, weighted(self.score), rank_error=_error(self.score))


def weighted(sketch: kll_doubles_sketch) -> Distinct:
    """A sketch's retained items as a weighted sorted sample whose ranks are the sketch's ranks
    (its CDF at each item) and whose total is the exact count. The weights come from get_cdf,
    not from the items' iterator: datasketches 5.2's Python iterator gives weight 1 to every
    item of a merged sketch (tested)."""
    if sketch.is_empty():
        return Distinct(np.empty(0), np.empty(0, dtype="int64"))
    values = np.unique(np.asarray([item for item, _ in sketch], dtype="float64"))
    ranks = np.asarray(sketch.get_cdf(values, True), dtype="float64")[:-1]
    cumulative = np.round(ranks * sketch.n).astype("int64")
    cumulative[-1] = sketch.n  # the largest item closes the sample
    return Distinct(values, np.diff(np.r_[0, cumulative]))


def _levels(values: pd.Series) -> tuple[dict[str, int], int]:
    """Level counts (text, MAX_LEVELS at most, the rarest pooled under OTHER) and missing."""
    counts = values.value_counts(dropna=False)
    absent = counts.index.isna()
    missing = int(counts[absent].sum())
    present = counts[~absent & (counts.to_numpy() > 0)]
    present = present.groupby(present.index.map(str)).sum()
    return _pool({str(name): int(count) for name, count in present.items()}), missing


def build(
    frame: pd.DataFrame,
    numeric: Iterable[str],
    categorical: Iterable[str],
    k: int,
) -> Profile:
    """The profile of a frame of events: the listed columns, the score and decisions when the
    frame has them."""
    profile = Profile(k=k, events=len(frame))
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
        profile.numeric[name] = _sketch(values, k)
        profile.missing[name] = int(np.isnan(values).sum())
    for name in categorical:
        profile.categorical[name], profile.missing[name] = _levels(frame[name])
    if SCORE in frame:
        profile.score = _sketch(frame[SCORE].to_numpy(dtype="float64"), k)
    if "decision" in frame:
        profile.decisions, _ = _levels(frame["decision"])
    return profile


def _add(total: dict[str, int], more: Mapping[str, int]) -> None:
    for key, count in more.items():
        total[key] = total.get(key, 0) + int(count)


def merge(profiles: Iterable[Profile], k: int) -> Profile:
    """One profile of every profile's events (columns missing from a profile count as absent
    from it; a sketch of another k merges at the smaller k, as KLL does). A merged sketch keeps
    the rank error bound whatever the number of merges, but its compactions are random: two
    merges of the same profiles differ (a window uses `mixture`)."""
    out = Profile(k=k)
    for item in profiles:
        out.events += item.events
        for name, sketch in item.numeric.items():
            out.numeric.setdefault(name, kll_doubles_sketch(k)).merge(sketch)
        for name, levels in item.categorical.items():
            _add(out.categorical.setdefault(name, {}), levels)
        _add(out.missing, item.missing)
        if item.score is not None:
            if out.score is None:
                out.score = kll_doubles_sketch(k)
            out.score.merge(item.score)
        _add(out.decisions, item.decisions)
    out.categorical = {name: _pool(levels) for name, levels in out.categorical.items()}
    return out


def exact(frame: pd.DataFrame, numeric: Iterable[str], categorical: Iterable[str]) -> Summary:
    """A frame's columns as a summary without a sketch: each numeric column's distinct values
    and counts, each categorical column's level counts (pooled as `build` pools them)."""
    columns = {}
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
        columns[name] = Summarised(rows=len(frame), values=Distinct.of(values))
    for name in categorical:
        levels, _ = _levels(frame[name])
        columns[name] = Summarised(rows=len(frame), levels=levels)
    return Summary(columns, len(frame))


def mixture(parts: Iterable[Summary]) -> Summary:
    """One summary of several parts' events, deterministically (no sketch is merged): a numeric
    column's CDF is the count-weighted mixture of the parts' CDFs, F = sum(n_d F_d) / sum(n_d),
    read exactly from their weighted samples joined (distinct values, summed weights); level
    counts add up. A column missing from a part counts that part's rows as missing. The
    mixture's rank error is the count-weighted mean of its parts' (an exact part's is 0), hence
    at most the largest part's: within `rank_error(k)` when every part is (99 % confidence
    each; the parts' errors are independent and unbiased, so their mean spreads less)."""
    rows = 0
    samples: dict[str, list[Distinct]] = {}
    levels: dict[str, dict[str, int]] = {}
    errors: dict[str, float] = {}
    for part in parts:
        rows += part.rows
        for name in part.columns:
            column = part[name]
            errors[name] = max(errors.get(name, 0.0), column.rank_error)
            if column.values is not None:
                samples.setdefault(name, []).append(column.values)
            else:
                _add(levels.setdefault(name, {}), column.levels or {})
    columns = {
        name: Summarised(rows=rows, values=_join(found), rank_error=errors[name])
        for name, found in samples.items()
    }
    for name, counts in levels.items():
        columns[name] = Summarised(rows=rows, levels=_pool(counts), rank_error=errors[name])
    return Summary(columns, rows)


def _join(samples: list[Distinct]) -> Distinct:
    """Weighted samples as one: their distinct values, sorted, with the weights summed."""
    values, where = np.unique(np.concatenate([s.values for s in samples]), return_inverse=True)
    weights = np.concatenate([s.counts for s in samples]).astype("int64")
    return Distinct(values, np.bincount(where, weights, values.size).astype("int64"))


def _pool(levels: dict[str, int]) -> dict[str, int]:
    """MAX_LEVELS levels at most, the rarest pooled under OTHER."""
    ranked = sorted(levels.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:MAX_LEVELS])
    rest = sum(count for _, count in ranked[MAX_LEVELS:])
    if rest:
        kept[OTHER] = kept.get(OTHER, 0) + rest
    return kept


def _encode(sketch: kll_doubles_sketch) -> str:
    return base64.b64encode(sketch.serialize()).decode("ascii")


def dumps(profile: Profile) -> bytes:
    """The profile as bytes (JSON; each sketch in its own binary form, base64)."""
    return orjson.dumps(
        {
            "format": FORMAT,
            "k": profile.k,
            "events": profile.events,
            "numeric": {name: _encode(sketch) for name, sketch in profile.numeric.items()},
            "categorical": profile.categorical,
            "missing": profile.missing,
            "score": None if profile.score is None else _encode(profile.score),
            "decisions": profile.decisions,
        }
    )


def loads(data: bytes, source: str) -> Profile:
    """A profile from `dumps`' bytes; a one-line error naming `source` otherwise."""
    try:
        document = orjson.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"format {document.get('format')!r}, this Kaizen reads {FORMAT}")

        def decode(text: str) -> kll_doubles_sketch:
            return kll_doubles_sketch.deserialize(base64.b64decode(text))

        return Profile(
            k=int(document["k"]),
            events=int(document["events"]),
            numeric={name: decode(text) for name, text in document["numeric"].items()},
            categorical={
                name: {str(level): int(n) for level, n in levels.items()}
                for name, levels in document["categorical"].items()
            },
            missing={name: int(n) for name, n in document["missing"].items()},
            score=None if document["score"] is None else decode(document["score"]),
            decisions={str(name): int(n) for name, n in document["decisions"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError) as error:
        raise KaizenError(f"{source}: not a readable sketch profile ({error})") from None
