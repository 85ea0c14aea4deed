"""Shared by the benchmarks: record a results section of bench/README.md between its markers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def record(name: str, text: str) -> None:
    """Replace what lies between `<!-- NAME:start -->` and `<!-- NAME:end -->`, atomically."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    content = README.read_text(encoding="utf-8")
    if start not in content or end not in content:
        sys.exit(f"bench: {README} lacks the {start} / {end} markers")
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    body = text if text.endswith("\n") else text + "\n"
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(f"{head}{start}\n{body}{end}{tail}", encoding="utf-8")
    os.replace(tmp, README)
