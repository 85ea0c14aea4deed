"""Where the pipeline writes: output paths read from `dvc.yaml`, the one place they are declared.

Commands that read stage outputs (the report, monitoring, MLflow logging) ask here instead of
repeating a literal path, so that editing `dvc.yaml` moves them all: a stage's `--option` value,
the metrics files with the stage that writes each, the plot data files.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from kaizen import KaizenError
from kaizen.io import files
from kaizen.pipeline.metrics import flatten

DVC_FILE = "dvc.yaml"
LOCK_FILE = "dvc.lock"
PARAMS_FILE = "params.yaml"
INTERPOLATION = re.compile(r"\$\{\s*([^}\s]+)\s*\}")


def load(dvcfile: str | Path = DVC_FILE) -> dict:
    """The parsed dvc.yaml (a mapping)."""
    content = files.read_yaml(dvcfile) or {}
    if not isinstance(content, dict):
        raise KaizenError(f"{dvcfile}: expected a mapping")
    return content


def stage_option(
    stage: str, option: str, dvcfile: str | Path = DVC_FILE, params: str | Path = PARAMS_FILE
) -> str:
    """The value of `--option` in the `cmd` of `stage` (e.g. evaluate's `--output` folder), with
    `${key}` taken from params.yaml as DVC does."""
    spec = (load(dvcfile).get("stages") or {}).get(stage)
    if not isinstance(spec, dict) or "cmd" not in spec:
        raise KaizenError(f"{dvcfile}: no stage {stage!r} with a cmd")
    words = shlex.split(" ".join(spec["cmd"]) if isinstance(spec["cmd"], list) else spec["cmd"])
    flag = f"--{option}"
    for position, word in enumerate(words):
        if word == flag and position + 1 < len(words):
            return _interpolate(words[position + 1], params)
        if word.startswith(flag + "="):
            return _interpolate(word.split("=", 1)[1], params)
    raise KaizenError(f"{dvcfile}: stage {stage!r} passes no {flag}")


def optional_stage_option(
    stage: str, option: str, dvcfile: str | Path = DVC_FILE, params: str | Path = PARAMS_FILE
) -> str | None:
    """`stage_option`, or None where it has no answer (no such stage or option: an older
    pipeline; or no dvc.yaml), for the outputs a command can do without."""
    try:
        return stage_option(stage, option, dvcfile, params)
    except KaizenError:
        return None


def _interpolate(value: str, params: str | Path) -> str:
    """Replace `${key.sub}` with its value in params.yaml."""
    if not INTERPOLATION.search(value):
        return value
    flat = flatten(files.read_yaml(params) or {})

    def lookup(match: re.Match) -> str:
        key = match.group(1)
        if key not in flat:
            raise KaizenError(f"{params}: no key {key!r} (used as ${{{key}}} in dvc.yaml)")
        return str(flat[key])

    return INTERPOLATION.sub(lookup, value)


def _entry_name(entry: str | dict) -> str:
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


def metric_files(dvcfile: str | Path = DVC_FILE) -> dict[str, str]:
    """The top-level `metrics:` files of dvc.yaml, each with the stage that writes it."""
    pipeline = load(dvcfile)
    found = {}
    for entry in pipeline.get("metrics") or []:
        name = _entry_name(entry)
        stage = producer(name, pipeline)
        if stage is None:
            raise KaizenError(f"{dvcfile}: metrics file {name} is no stage's output")
        found[name] = stage
    return found


def plot_files(dvcfile: str | Path = DVC_FILE) -> list[str]:
    """The data files of the top-level `plots:`: those named in `x:`/`y:`, else the plot id."""
    out: list[str] = []
    for entry in load(dvcfile).get("plots") or []:
        plot, config = (entry, None) if isinstance(entry, str) else next(iter(entry.items()))
        axes = [(config or {}).get(axis) for axis in ("x", "y")]
        named = [name for axis in axes if isinstance(axis, dict) for name in axis] or [plot]
        out.extend(name for name in named if name not in out)
    return out
