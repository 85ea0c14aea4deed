"""Reading `params.yaml`: the file's YAML, validated by kaizen.config (one-line errors)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from kaizen import KaizenError
from kaizen.config import Params, parse_params
from kaizen.splits import deprecations

log = logging.getLogger(__name__)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate `params.yaml` once, at start-up."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KaizenError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise KaizenError(f"{path}: invalid YAML{where}") from None
    params = parse_params(raw, path)
    for message in deprecations(raw):
        log.warning("warning: %s: %s", path, message)
    return params


def read_params_text(path: Path) -> tuple[str, Any]:
    """params.yaml's text, to edit it in a round trip that keeps its comments, and its content."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, yaml.safe_load(text)
    except FileNotFoundError:
        raise KaizenError(f"{path}: file not found") from None
    except yaml.YAMLError:
        raise KaizenError(f"{path}: invalid YAML") from None
