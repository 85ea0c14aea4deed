"""Profiles: built, merged and read back; counts exact, sketched ranks within the documented
error; drift from merged daily profiles agrees with drift from the events (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaizen import KaizenError
from kaizen.drift import verdicts
from kaizen.drift.statistics import Distinct, ks_statistic
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
    parts = [frame.iloc[day::days] for day in range(days)]
    stored = [P.dumps(P.build(part, ["Income"], ["Home"], K)) for part in parts]
    return P.merge([P.loads(data, "test") for data in stored], K)


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
    exact = np.sort(frame["Income"].dropna().to_numpy())
    assert sample.size == exact.size and sample.values.size < exact.size // 10
    ranks = np.cumsum(sample.counts) / sample.size
    truth = np.searchsorted(exact, sample.values, side="right") / exact.size
    assert np.max(np.abs(ranks - truth)) <= P.rank_error(K)


def test_sketched_ks_statistic_within_the_rank_error():
    """The KS statistic from a merged sketch is within the sketch's documented rank error of
    the exact one (on an undrifted and a shifted sample)."""
    reference = Distinct.of(events(5_000, seed=1)["Income"].dropna())
    for shift in (0.0, 0.05, 0.3):
        frame = events(100_000, seed=4, shift=shift)
        exact = ks_statistic(reference, Distinct.of(frame["Income"].dropna()))
        sketched = ks_statistic(reference, P.weighted(daily(frame, 4).numeric["Income"]))
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
        scores = reference["score"].to_numpy()
        exact = verdicts.analyse(
            reference, frame, ["Income"], ["Home"], config, scores=(scores, frame["score"])
        )
        sketched = verdicts.analyse(
            reference,
            merged.summary(),
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
        merged = daily(exact.frame)
        frame = exact.frame.drop(columns=["Income", "Home"])
        sketched = Window(frame, exact.since, exact.until, profile=merged.summary())
        one = S.analyse(exact, reference, params(), [], NOW)
        two = S.analyse(sketched, reference, params(), [], NOW)
        assert [(s.name, s.level) for s in one.signals] == [(s.name, s.level) for s in two.signals]
        assert two.drift.rows_current == 3000
        levels = {s.name: s.level for s in two.signals}
        assert one.level == two.level and (levels["feature:Income"] != "ok") == bool(shift)
