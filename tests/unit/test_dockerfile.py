"""The image's build context: every path the Dockerfile copies is let in by .dockerignore (which
ignores everything else), so that `docker build` cannot fail on a missing file."""

from __future__ import annotations

import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copied(dockerfile: str) -> list[str]:
    """Sources of the COPY instructions that read the build context (not `--from=` a stage)."""
    sources = []
    for line in dockerfile.splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def let_in(path: str, rules: list[str]) -> bool:
    """Whether .dockerignore's rules (last match wins; `!` re-includes) keep `path`."""
    kept = True
    for rule in rules:
        negated = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        parts = Path(path.rstrip("/")).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            kept = negated
    return kept


def test_every_copied_path_is_in_the_build_context():
    """`COPY models/bundle/ …` needs `!models/bundle/` in .dockerignore, and so on."""
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = copied((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert "models/bundle/" in sources
    assert [s for s in sources if not let_in(s, rules)] == []


def test_the_check_can_fail():
    """A path the rules do not re-include is reported."""
    assert not let_in("models/model.joblib", ["*", "!models/bundle/"])
    assert let_in("models/bundle/", ["*", "!models/bundle/"])
