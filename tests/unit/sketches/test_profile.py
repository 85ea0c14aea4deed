"""Profiles: built, merged, joined and read back; counts exact, sketched ranks within the
documented error; a window's join is deterministic; drift from joined daily profiles agrees with
drift from the events (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.drift import verdicts
from kaizen.drift.statistics import Distinct, Summary, ks_statistic
from kaizen.monitoring import signals as S
from kaizen.monitoring.window import Window
from kaizen.sketches import profile as P
from tests.unit.monitoring.conftest import (  # noqa: F401  # pylint: disable=unused-import
    NOW,
    fixture_reference,
    params,
    population,
    window,
)

K = 2000


def events(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Synthetic events: Income (5 % missing), Home, score, decision."""
    frame = population(n, seed, shift)
    rng = np.random.default_rng(seed + 100)
    frame.loc[rng.random(n) < 0.05, "Income"] = np.nan
    frame.loc[rng.random(n) < 0.01, "Home"] = None
    frame["decision"] = np.where(frame["score"] >= 0.3, "refuse", "accept")
    return frame


def daily(frame: pd.DataFrame, days: int = 30) -> P.Profile:
    """The frame profiled in `days` parts, merged after a round trip through bytes."""
    return P.merge([P.loads(data, "test") for data in stored(frame, days)], K)


def stored(frame: pd.DataFrame, days: int) -> list[bytes]:
    """The frame profiled in `days` parts, as stored."""
    parts = [frame.iloc[day::days] for day in range(days)]
    return [P.dumps(P.build(part, ["Income"], ["Home"], K)) for part in parts]


def joined(frame: pd.DataFrame, days: int = 30, edge: int = 0) -> Summary:
    """The frame as a monitor window sees it: `days` stored daily profiles joined, and its
    first `edge` rows read exactly (a partial day)."""
    parts = [P.loads(data, "test").summary() for data in stored(frame.iloc[edge:], days)]
    return P.mixture([*parts, P.exact(frame.iloc[:edge], ["Income"], ["Home"])])


def test_a_join_is_the_same_every_time():
    """Two joins of the same stored profiles (compacted: 15,000 events a day, k = 2000) are
    equal to the last weight, whereas a merge compacts at random."""
    days = stored(events(60_000, seed=8), 4)
    one, two = (P.mixture([P.loads(d, "test").summary() for d in days]) for _ in range(2))
    for name in ("Income", "Home"):
        assert one[name].rows == two[name].rows == 60_000
        assert one[name].levels == two[name].levels
    first, second = one["Income"].values, two["Income"].values
    assert np.array_equal(first.values, second.values)
    assert np.array_equal(first.counts, second.counts)
    assert one["Income"].rank_error == P.rank_error(K)


def test_a_join_of_exact_parts_is_the_exact_sample():
    """Parts summarised exactly join into the whole frame's exact summary (values, counts,
    levels, missing; rank error 0); a column missing from a part counts its rows as missing."""
    frame = events(3_000, seed=2)
    whole = P.exact(frame, ["Income"], ["Home"])
    parts = [P.exact(frame.iloc[day::3], ["Income"], ["Home"]) for day in range(3)]
    found = P.mixture(parts)
    assert found.rows == whole.rows == 3_000 and found["Income"].rank_error == 0
    assert np.array_equal(found["Income"].values.values, whole["Income"].values.values)
    assert np.array_equal(found["Income"].values.counts, whole["Income"].values.counts)
    assert found["Income"].present == int(frame["Income"].notna().sum())
    assert found["Home"].levels == whole["Home"].levels == frame["Home"].value_counts().to_dict()
    without = P.mixture([*parts, P.exact(frame.iloc[:10], [], ["Home"])])
    assert without["Income"].rows == 3_010 and without["Income"].present == found["Income"].present


def assert_ranks_within_the_error(sample, values: pd.Series, thinned: int) -> None:
    """`sample` totals every value, keeps fewer than 1/`thinned` of them, and each of its ranks
    is within the sketch's rank error of the values' ranks."""
    exact = np.sort(values.dropna().to_numpy())
    assert sample.size == exact.size and sample.values.size < exact.size // thinned
    ranks = np.cumsum(sample.counts) / sample.size
    truth = np.searchsorted(exact, sample.values, side="right") / exact.size
    assert np.max(np.abs(ranks - truth)) <= P.rank_error(K)


def test_joined_ranks_are_within_the_rank_error():
    """Four compacted days (k = 2000) and an exact partial day joined: the total is exact and
    every rank within the sketch's rank error of the events' ranks."""
    frame = events(90_000, seed=6)
    sample = joined(frame, days=4, edge=5_000)["Income"].values
    assert_ranks_within_the_error(sample, frame["Income"], thinned=2)


def test_a_sketch_holding_every_value_has_no_rank_error():
    """Fewer values than the sketch keeps: its summary is exact (rank error 0)."""
    small = P.build(events(500, seed=1), ["Income"], ["Home"], K).summary()["Income"]
    large = P.build(events(20_000, seed=1), ["Income"], ["Home"], K).summary()["Income"]
    assert small.rank_error == 0 and large.rank_error == P.rank_error(K)


def test_counts_merge_exactly():
    """Events, missing counts, level and decision counts of merged profiles are exact."""
    frame = events(20_000, seed=3)
    merged = daily(frame)
    assert merged.events == len(frame)
    assert merged.missing == {
        "Income": int(frame["Income"].isna().sum()),
        "Home": int(frame["Home"].isna().sum()),
    }
    assert merged.categorical["Home"] == frame["Home"].value_counts().to_dict()
    assert merged.decisions == frame["decision"].value_counts().to_dict()
    assert merged.numeric["Income"].n == int(frame["Income"].notna().sum())
    assert merged.score is not None and merged.score.n == len(frame)


def test_merged_sketches_weigh_every_event():
    """Sketches merged after compaction (3 parts of 30,000 values, k = 2000): the weighted
    sample totals the exact count and its ranks are within the rank error (the Python iterator
    of datasketches 5.2 weighs each retained item of a merged sketch 1)."""
    frame = events(90_000, seed=6)
    merged = daily(frame, days=3)
    sample = P.weighted(merged.numeric["Income"])
    assert_ranks_within_the_error(sample, frame["Income"], thinned=10)


def test_sketched_ks_statistic_within_the_rank_error():
    """The KS statistic from a merged sketch is within the sketch's documented rank error of
    the exact one (on an undrifted and a shifted sample)."""
    reference = Distinct.of(events(5_000, seed=1)["Income"].dropna())
    for shift in (0.0, 0.05, 0.3):
        frame = events(100_000, seed=4, shift=shift)
        exact = ks_statistic(reference, Distinct.of(frame["Income"].dropna()))
        merged = ks_statistic(reference, P.weighted(daily(frame, 4).numeric["Income"]))
        assert abs(exact - merged) <= P.rank_error(K), (shift, exact, merged)
        sketched = ks_statistic(reference, joined(frame, 4, edge=2_000)["Income"].values)
        assert abs(exact - sketched) <= P.rank_error(K), (shift, exact, sketched)


@pytest.mark.parametrize("method", ["psi", "ks", "wasserstein"])
def test_drift_from_merged_profiles_agrees_with_the_events(method):
    """Every numeric method: PSI within 0.005 of the exact PSI per feature and for the score,
    the same verdicts (feature, score, dataset), missing and unseen shares equal."""
    config = params({"numeric_method": method}).drift
    reference = events(5_000, seed=1)
    for shift in (0.0, 0.3):
        frame = events(60_000, seed=5, shift=shift)
        frame.loc[frame.index[:50], "Home"] = "unknown-level"
        merged = daily(frame, days=4)  # 15,000 events a day: compacted sketches
        seen = joined(frame, days=4, edge=2_000)  # the monitor's: joined, a partial day
        scores = reference["score"].to_numpy()
        exact = verdicts.analyse(
            reference, frame, ["Income"], ["Home"], config, scores=(scores, frame["score"])
        )
        for summary in (merged.summary(), seen):
            sketched = verdicts.analyse(
                reference,
                summary,
                ["Income"],
                ["Home"],
                config,
                scores=(scores, merged.score_sample()),
            )
            assert sketched.verdict == exact.verdict and sketched.rows_current == len(frame)
            assert sketched.score_verdict == exact.score_verdict
            assert abs(sketched.score_psi - exact.score_psi) <= 0.005
            for one, two in zip(exact.features, sketched.features):
                assert (one.feature, one.verdict) == (two.feature, two.verdict)
                assert abs(one.psi - two.psi) <= 0.005, (method, shift, one.feature)
                assert one.missing_current == two.missing_current
                assert one.unseen == two.unseen and one.unseen_share == two.unseen_share
        assert exact.verdict == ("drift" if shift else "stable")


def test_rare_levels_beyond_the_cap_are_pooled_as_unseen(monkeypatch):
    """Past MAX_LEVELS distinct levels the rarest are pooled, their count kept."""
    monkeypatch.setattr(P, "MAX_LEVELS", 2)
    frame = pd.DataFrame({"Home": ["a"] * 5 + ["b"] * 3 + ["c", "d"]})
    built = P.build(frame, [], ["Home"], K)
    assert built.categorical["Home"] == {"a": 5, "b": 3, P.OTHER: 2}
    merged = P.merge([built, P.build(pd.DataFrame({"Home": ["e"] * 4}), [], ["Home"], K)], K)
    assert merged.categorical["Home"] == {"a": 5, "e": 4, P.OTHER: 5}


def test_an_empty_profile_and_a_bad_document():
    """No events: empty sketches; unreadable bytes: one line naming the source."""
    empty = P.loads(P.dumps(P.build(events(0, seed=1), ["Income"], ["Home"], K)), "x")
    assert empty.events == 0 and P.weighted(empty.numeric["Income"]).size == 0
    for data in (b"{", b'{"format": 99}', b'{"format": 1, "k": 5}'):
        with pytest.raises(KaizenError, match="^day 2026-01-01: not a readable sketch profile"):
            P.loads(data, "day 2026-01-01")


def test_monitor_signals_from_a_window_profile(reference):
    """signals.analyse on a window carrying its merged profile (the inputs' columns dropped from
    its frame) gives the levels the events give, undrifted and shifted."""
    for shift in (0.0, 0.3):
        exact = window(3000, seed=9, shift=shift)
        frame = exact.frame.drop(columns=["Income", "Home"])
        sketched = Window(frame, exact.since, exact.until, profile=joined(exact.frame, 30, 100))
        one = S.analyse(exact, reference, params(), [], NOW)
        two = S.analyse(sketched, reference, params(), [], NOW)
        assert [(s.name, s.level) for s in one.signals] == [(s.name, s.level) for s in two.signals]
        assert two.drift.rows_current == 3000
        levels = {s.name: s.level for s in two.signals}
        assert one.level == two.level and (levels["feature:Income"] != "ok") == bool(shift)
