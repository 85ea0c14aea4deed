"""Progress: a bar on a terminal, timed lines in a log, the items unchanged either way."""

from __future__ import annotations

import logging

from kaizen import progress


def test_lines_in_a_log_at_most_every_period_and_the_last(caplog):
    """Not a terminal: one line per period (here: every item, with a 0 s period)."""
    with caplog.at_level(logging.INFO, logger="kaizen.progress"):
        assert list(progress.steps(range(4), 4, "folds", every=0, terminal=False)) == [0, 1, 2, 3]
    assert [r.getMessage() for r in caplog.records][-1] == "folds: 4/4 (100 %)"
    assert len(caplog.records) == 4
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kaizen.progress"):
        list(progress.steps(range(1000), 1000, "rows", every=3600, terminal=False))
    assert not caplog.records  # work shorter than a period prints nothing


def test_a_bar_on_a_terminal(capsys, caplog):
    """A terminal gets tqdm's bar on stderr and no log line."""
    with caplog.at_level(logging.INFO, logger="kaizen.progress"):
        assert list(progress.steps(iter("abc"), 3, "sent", terminal=True)) == ["a", "b", "c"]
    assert "sent" in capsys.readouterr().err and not caplog.records
