"""Progress of long work: a bar on a terminal (tqdm), plain periodic lines elsewhere (CI logs,
files), never both. The lines go through `logging` (`kaizen <command>: label: 40/100 (40 %)`),
at most one per `every` seconds (work shorter than that prints nothing), so a log stays
readable."""

from __future__ import annotations

import logging
import sys
import time
from typing import Iterable, Iterator, TypeVar

from tqdm import tqdm

Item = TypeVar("Item")
log = logging.getLogger("kaizen.progress")


def steps(
    items: Iterable[Item], total: int, label: str, every: float = 10.0, terminal: bool | None = None
) -> Iterator[Item]:
    """`items`, reporting progress out of `total` (bar on a terminal, else timed lines)."""
    if terminal is None:
        terminal = sys.stderr.isatty()
    if terminal:
        yield from tqdm(items, total=total, desc=label, unit="", leave=False, file=sys.stderr)
        return
    started = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        # a line per period; the last one too, unless the whole work took less than a period
        if now - last >= every or (done == total and now - started >= every):
            log.info("%s: %d/%d (%d %%)", label, done, total, 100 * done // max(total, 1))
            last = now
