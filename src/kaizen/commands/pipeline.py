"""Where the pipeline writes: output paths read from `dvc.yaml`, the one place they are declared.

Commands that read stage outputs (the report, monitoring, MLflow logging) ask here instead of
repeating a literal path, so that editing `dvc.yaml` moves them all.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from kaizen import KaizenError

DVC_FILE = "dvc.yaml"


def stage_option(stage: str, option: str, dvcfile: str | Path = DVC_FILE) -> str:
    """The value of `--option` in the `cmd` of `stage` (e.g. evaluate's `--output` folder)."""
    path = Path(dvcfile)
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise KaizenError(f"{path}: file not found (run from the repository root)") from None
    except yaml.YAMLError as exc:
        raise KaizenError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    spec = (content.get("stages") or {}).get(stage)
    if not isinstance(spec, dict) or "cmd" not in spec:
        raise KaizenError(f"{path}: no stage {stage!r} with a cmd")
    words = shlex.split(" ".join(spec["cmd"]) if isinstance(spec["cmd"], list) else spec["cmd"])
    flag = f"--{option}"
    for position, word in enumerate(words):
        if word == flag and position + 1 < len(words):
            return words[position + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    raise KaizenError(f"{path}: stage {stage!r} passes no {flag}")
