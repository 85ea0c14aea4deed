"""The layout tree of docs/architecture.md is the tree on disk: every entry exists, every module
is listed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "docs" / "architecture.md"


def layout_entries(readme: str) -> set[str]:
    """Paths named by the README's layout tree (two spaces of indent per folder level)."""
    block = readme.split("# Layout", 1)[1].split("```", 2)[1]
    parents: list[tuple[int, str]] = []
    paths = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        names = re.split(r",\s*", re.split(r"\s{2,}", line.strip())[0])
        while parents and parents[-1][0] >= indent:
            parents.pop()
        prefix = parents[-1][1] if parents else ""
        for name in names:
            if re.fullmatch(r"[\w.\-]+/?", name):
                paths.add(prefix + name.rstrip("/"))
        if len(names) == 1 and names[0].endswith("/"):
            parents.append((indent, prefix + names[0]))
    return paths


def test_every_listed_path_exists():
    """No entry in the tree names a file or folder that is not there (stage outputs aside)."""
    entries = layout_entries(LAYOUT.read_text(encoding="utf-8"))
    generated = {"models"}  # git-ignored stage output, absent from a fresh clone
    missing = sorted(e for e in entries - generated if not (ROOT / e).exists())
    assert not missing, f"docs/architecture.md layout lists missing paths: {missing}"
    assert "src/kaizen/commands/runner.py" in entries


def test_every_module_is_listed():
    """A new module must be placed (and explained) in the tree."""
    entries = layout_entries(LAYOUT.read_text(encoding="utf-8"))
    modules = {
        path.relative_to(ROOT).as_posix() for path in (ROOT / "src" / "kaizen").rglob("*.py")
    }
    unlisted = sorted(m for m in modules if m not in entries and not m.endswith("/__init__.py"))
    assert not unlisted, f"docs/architecture.md layout does not list: {unlisted}"


def test_parser_follows_indentation():
    """Nested entries are resolved against their folder; descriptions are ignored."""
    tree = [
        "a/                x",
        "  b.py, c.py      y",
        "  d/              z",
        "    e.py",
        "f.txt",
    ]
    text = "# Layout\n```\n" + "\n".join(tree) + "\n```\n"
    assert layout_entries(text) == {"a", "a/b.py", "a/c.py", "a/d", "a/d/e.py", "f.txt"}
