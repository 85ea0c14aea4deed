"""The monitor command's per-version helpers: the window split by model version (the newest
event's first), each section's own history, and the lines naming versions."""

from __future__ import annotations

import logging

import pandas as pd

from kaizen.commands import monitor
from kaizen.monitoring.report import ModelVersion


def test_by_version_puts_the_newest_events_version_first():
    """Groups in order: the newest event's version, then the others sorted; rows kept."""
    frame = pd.DataFrame({"model_version": ["b", "a", "c", "a"], "score": [0.1, 0.2, 0.3, 0.4]})
    groups = monitor.by_version(frame, "c")
    assert [version for version, _ in groups] == ["c", "a", "b"]
    assert groups[1][1]["score"].tolist() == [0.2, 0.4]
    assert [v for v, _ in monitor.by_version(frame, None)] == ["a", "b", "c"]
    assert monitor.by_version(frame.iloc[0:0], "a") == []


def test_version_history_keeps_only_that_versions_signals():
    """A section sees its own past signals, without the prefix."""
    past = [
        {
            "events": 10,
            "signals": {"volume": {"breach": "ok"}, "v1/score_psi": {"breach": "critical"}},
        }
    ]
    seen = monitor.version_history(past, "v1/")
    assert seen == [{"events": 10, "signals": {"score_psi": {"breach": "critical"}}}]


def test_version_notes(caplog):
    """One line for a window spanning versions (unjudged ones with their reason), one (also
    logged) when the workspace's bundle scored none of the window."""
    versions = [
        ModelVersion("new", 700, True, "judged"),
        ModelVersion("old", 300, False, "not registered"),
    ]
    with caplog.at_level(logging.WARNING):
        notes = monitor.version_notes("other", versions)
    assert notes[0].startswith("The window spans 2 model versions: new (700 events), old (300")
    assert "not judged, not registered" in notes[0]
    assert "workspace's bundle (other) differs" in notes[1] and "differs" in caplog.text
    assert not monitor.version_notes("new", versions[:1])
