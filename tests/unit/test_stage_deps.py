"""dvc.yaml: every stage depends on every project module its stage module imports (transitively).

A module left out means DVC skips a stage whose code changed. The closure starts at
`src/kaizen/stages/<stage>.py` and follows `import kaizen…` / `from kaizen… import …` statements
(lazy imports inside functions included), plus the `__init__.py` of every package on the way.
The CLI (`cli.py`, `__main__.py`) only routes arguments to the stage, so it is left out on
purpose: adding a command must not rerun the pipeline.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def module_file(name: str) -> Path | None:
    """The file of module `kaizen.x.y`, or None when it is not a project module."""
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def packages(name: str) -> list[str]:
    """`kaizen.a.b` -> ['kaizen', 'kaizen.a', 'kaizen.a.b'] (every package init runs)."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported(path: Path) -> set[str]:
    """Project modules named by the import statements of one file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == "kaizen")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kaizen":
            names.add(node.module)
            # `from kaizen import data` imports the module kaizen.pipeline.data
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def closure(start: str) -> set[Path]:
    """Files of every project module `start` imports, transitively, with package inits."""
    seen: set[Path] = set()
    todo = [start]
    while todo:
        for name in packages(todo.pop()):
            path = module_file(name)
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(imported(path))
    return seen


def stages() -> dict[str, dict]:
    """The stages of the project's dvc.yaml."""
    return yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def missing_deps(stage: str, spec: dict) -> list[str]:
    """Project modules of the stage's closure that its deps do not list."""
    listed = {str(dep) for dep in spec.get("deps", [])}
    needed = closure(f"kaizen.stages.{stage}")
    return sorted(
        str(path.relative_to(ROOT))
        for path in needed
        if str(path.relative_to(ROOT)) not in listed
        and not any(str(path.relative_to(ROOT)).startswith(d.rstrip("/") + "/") for d in listed)
    )


@pytest.mark.parametrize("stage", sorted(stages()))
def test_stage_deps_cover_its_imports(stage):
    """A stage missing a module it imports would not rerun when that module changes."""
    missing = missing_deps(stage, stages()[stage])
    assert not missing, f"dvc.yaml: stage {stage} must depend on {', '.join(missing)}"


def test_closure_follows_lazy_and_package_imports(tmp_path, monkeypatch):
    """The closure sees imports inside functions and the package inits on the way."""
    package = tmp_path / "kaizen"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "sub" / "__init__.py").write_text("import kaizen.base\n", encoding="utf-8")
    (package / "base.py").write_text("", encoding="utf-8")
    (package / "lazy.py").write_text("", encoding="utf-8")
    (package / "sub" / "leaf.py").write_text(
        "def f():\n    from kaizen import lazy\n", encoding="utf-8"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in closure("kaizen.sub.leaf")}
    assert names == {
        "kaizen/__init__.py",
        "kaizen/sub/__init__.py",
        "kaizen/sub/leaf.py",
        "kaizen/base.py",
        "kaizen/lazy.py",
    }


def test_a_removed_dependency_is_named():
    """Dropping a module from a stage's deps fails with the module's name."""
    spec = dict(stages()["evaluate"])
    spec["deps"] = [d for d in spec["deps"] if d != "src/kaizen/pipeline/model.py"]
    assert missing_deps("evaluate", spec) == ["src/kaizen/pipeline/model.py"]
