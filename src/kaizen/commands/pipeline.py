"""dvc.yaml read as data: the paths a stage is given, the metrics and plot files it declares.

Paths are declared in dvc.yaml only; commands that need one (the model, a metrics file) look it up
here instead of repeating the literal.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from kaizen import KaizenError
from kaizen.metrics import flatten

DVC_YAML = "dvc.yaml"
LOCK_FILE = "dvc.lock"
PARAMS_YAML = "params.yaml"
INTERPOLATION = re.compile(r"\$\{\s*([^}\s]+)\s*\}")


def _read_yaml(path: str | Path) -> dict:
    """A YAML mapping, with one-line errors."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KaizenError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise KaizenError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise KaizenError(f"{path}: expected a mapping")
    return data


def load(path: str | Path = DVC_YAML) -> dict:
    """The parsed dvc.yaml."""
    return _read_yaml(path)


def _stage(pipeline: dict, stage: str, path: str | Path) -> dict:
    """One stage's definition."""
    stages = pipeline.get("stages") or {}
    if stage not in stages:
        raise KaizenError(f"{path}: no stage named {stage!r} (have: {', '.join(stages)})")
    return stages[stage]


def stage_option(
    stage: str, option: str, path: str | Path = DVC_YAML, params: str | Path = PARAMS_YAML
) -> str:
    """The value the stage's `cmd` passes as `--option`, `${…}` resolved from params.yaml."""
    pipeline = load(path)
    words = shlex.split(str(_stage(pipeline, stage, path).get("cmd", "")))
    flag = f"--{option}"
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return _interpolate(words[i + 1], params)
        if word.startswith(f"{flag}="):
            return _interpolate(word.split("=", 1)[1], params)
    raise KaizenError(f"{path}: stage {stage!r} has no {flag} option in its cmd")


def _interpolate(value: str, params: str | Path) -> str:
    """Replace `${key.sub}` with the value from params.yaml, as DVC does."""
    if not INTERPOLATION.search(value):
        return value
    flat = flatten(_read_yaml(params))

    def lookup(match: re.Match) -> str:
        key = match.group(1)
        if key not in flat:
            raise KaizenError(f"{params}: no key {key!r} (used as ${{{key}}} in dvc.yaml)")
        return str(flat[key])

    return INTERPOLATION.sub(lookup, value)


def _entry_name(entry) -> str:
    """A dvc.yaml list item is `path` or `{path: options}`."""
    return entry if isinstance(entry, str) else next(iter(entry))


def producer(output: str, pipeline: dict) -> str | None:
    """The stage whose `outs` hold `output` (itself or a folder above it), or None."""
    target = Path(output)
    for name, stage in (pipeline.get("stages") or {}).items():
        for entry in stage.get("outs") or []:
            out = Path(_entry_name(entry))
            if target == out or out in target.parents:
                return name
    return None


def metric_files(path: str | Path = DVC_YAML) -> dict[str, str]:
    """The top-level `metrics:` files of dvc.yaml, each with the stage that writes it."""
    pipeline = load(path)
    files = {}
    for entry in pipeline.get("metrics") or []:
        name = _entry_name(entry)
        stage = producer(name, pipeline)
        if stage is None:
            raise KaizenError(f"{path}: metrics file {name} is no stage's output")
        files[name] = stage
    return files


def plot_files(path: str | Path = DVC_YAML) -> list[str]:
    """The data files of the top-level `plots:`: those named in `x:`/`y:`, else the plot id."""
    out: list[str] = []
    for entry in load(path).get("plots") or []:
        plot, config = (entry, None) if isinstance(entry, str) else next(iter(entry.items()))
        axes = [(config or {}).get(axis) for axis in ("x", "y")]
        files = [name for axis in axes if isinstance(axis, dict) for name in axis] or [plot]
        out.extend(name for name in files if name not in out)
    return out
