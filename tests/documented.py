"""The shell commands a documentation page shows, as one script a test can run.

Every ```bash block of a page runs, in order, in one shell (the environment a block exports holds
for the next ones, as in a terminal), unless the line before its fence says why it cannot run
here: `<!-- not run: needs Docker -->` (hidden on GitHub and in the site). Other fences (yaml,
sql, text, mermaid) are not commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->\s*$")
SHELLS = {"bash", "sh", "shell"}
PRELUDE = """\
set -euo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT
"""


@dataclass(frozen=True)
class Block:
    """One fenced shell block of a page: where it starts, its commands, why it does not run."""

    line: int
    body: str
    not_run: str | None


def blocks(text: str) -> list[Block]:
    """The page's shell blocks, in order."""
    found = []
    for match in FENCE.finditer(text):
        if match.group(1).strip().split(" ")[0] not in SHELLS:
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        reason = NOT_RUN.search(before)
        line = text[: match.start()].count("\n") + 1
        found.append(Block(line, match.group(2), reason.group(1) if reason else None))
    return found


def script(page: Path, text: str, port: int | None = None) -> str:
    """The page's runnable blocks as one bash script; each announces its line on stderr, so a
    failure names the block. `port` replaces the pages' example port 8000 (a free one)."""
    parts = [PRELUDE]
    for block in blocks(text):
        if block.not_run is None:
            parts.append(f"echo '>>> {page.name}:{block.line}' >&2\n{block.body}")
    out = "\n".join(parts)
    return out.replace("8000", str(port)) if port else out
