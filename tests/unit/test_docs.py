"""The docs cannot rot: every `kaizen …` / `make …` command shown in a code block exists, and
every relative link resolves to a file (and heading anchors of markdown targets exist)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kaizen import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/**/*.md"), ROOT / "bench" / "README.md"])
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def subcommands() -> set[str]:
    """The CLI's subcommands (from its registry)."""
    action = next(a for a in cli.parser()._actions if a.dest == "command")  # pylint: disable=W0212
    return set(action.choices)


def make_targets() -> set[str]:
    """Targets defined in the Makefile."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-zA-Z][\w-]*):", text, re.M))


def commands_in(text: str, tool: str) -> set[str]:
    """The word after `tool` in every code-block line that runs it (`.venv/bin/` allowed)."""
    found = set()
    for block in FENCE.findall(text):
        for line in block.splitlines():
            match = re.match(
                rf"^\s*(?:\$\s*)?(?:\S*/)?{tool}\s+(?:--\S+\s+\S+\s+)*([a-z][\w-]*)", line
            )
            if match:
                found.add(match.group(1))
    return found


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a markdown file."""
    out = set()
    for heading in re.findall(r"^#+\s+(.*)$", path.read_text(encoding="utf-8"), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_in_code_blocks_exist(doc):
    """A renamed subcommand or target fails here, naming the file."""
    text = doc.read_text(encoding="utf-8")
    unknown = commands_in(text, "kaizen") - subcommands()
    assert not unknown, f"{doc.name}: unknown kaizen subcommand(s) {sorted(unknown)}"
    missing = commands_in(text, "make") - make_targets()
    assert not missing, f"{doc.name}: unknown make target(s) {sorted(missing)}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    """Links to files of the repository (and their #anchors) point at something."""
    broken = []
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: outside the repository
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: broken link(s) {broken}"


def test_the_checks_can_fail(tmp_path):
    """An unknown command and a broken link are caught."""
    assert commands_in("```bash\nkaizen no-such-command --x\nmake repro\n```", "kaizen") == {
        "no-such-command"
    }
    assert commands_in("```\n.venv/bin/kaizen --params p.yaml predict\n```", "kaizen") == {
        "predict"
    }
    page = tmp_path / "page.md"
    page.write_text("# A title\n[x](missing.md) [y](#a-title)\n", encoding="utf-8")
    assert LINK.findall(page.read_text(encoding="utf-8")) == ["missing.md", "#a-title"]
    assert "a-title" in anchors(page)


def test_the_site_builds_strict_and_offline(tmp_path):
    """`mkdocs build --strict` passes (every page in the navigation, no broken link) and no page
    loads a script, a style sheet or a font from the network: the site reads offline."""
    mkdocs = pytest.importorskip("mkdocs.commands.build")
    config = pytest.importorskip("mkdocs.config").load_config(
        str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=True
    )
    mkdocs.build(config)
    pages = list((tmp_path / "site").rglob("*.html"))
    assert len(pages) >= 15
    remote = re.compile(r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(?:https?:)?//[^\"]+\"[^>]*>")
    for page in pages:
        fetched = [
            tag for tag in remote.findall(page.read_text(encoding="utf-8")) if "<a " not in tag
        ]
        assert not [t for t in fetched if "stylesheet" in t or "<script" in t or "<img" in t], (
            page,
            fetched,
        )


def test_make_help_groups_every_target():
    """`make help` starts with the two commands and leaves no target in "other"."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    groups = [line[:-1] for line in text.splitlines() if line and not line.startswith(" ")]
    assert groups[:2] == ["start here", "pipeline"] and "other" not in groups, groups
    start = text.split("pipeline:", 1)[0]
    assert re.search(r"^\s+repro\s", start, re.M) and re.search(r"^\s+test\s", start, re.M)
    listed = set(re.findall(r"^\s+([a-z][\w-]*)\s", text, re.M))
    documented = set(re.findall(r"^([a-zA-Z][\w-]*):.*## ", (ROOT / "Makefile").read_text(), re.M))
    assert listed == documented
