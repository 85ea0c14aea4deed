"""Markdown building blocks shared by every report (PR report, drift summary, monitoring)."""

from __future__ import annotations

import math
from typing import TypeGuard

from kaizen.pipeline.metrics import direction

VERDICT_ICONS = {"drift": "🔴", "warning": "🟠", "stable": "🟢", "insufficient data": "⚪"}


def is_number(value: object) -> TypeGuard[int | float]:
    """A real, finite number (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def fmt(value: object, signed: bool = False) -> str:
    """Short human form: ints as is, floats to 4 decimals (or 2 significant digits when tiny)."""
    if value is None:
        return "–"
    if not is_number(value):
        return str(value)
    sign = "+" if signed else ""
    if value == 0:
        return "0"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        return f"{int(value):{sign},d}"
    value = float(value)
    if abs(value) < 0.001:
        return f"{value:{sign}.2g}"
    text = f"{value:{sign}.4f}".rstrip("0").rstrip(".")
    return text


def mark(name: str, old: object, new: object) -> str:
    """✅ when the change improves the metric given its direction, ❌ when it worsens it, else –."""
    sense = direction(name)
    if not sense or not is_number(old) or not is_number(new) or old == new:
        return "–"
    return "✅" if (new - old) * sense > 0 else "❌"


def details(summary: str, body: str) -> str:
    """A collapsed HTML section (markdown inside renders on GitHub)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
