"""What every report shares (PR report, drift summary, monitoring: Markdown, HTML, terminal):
one number formatter and one level vocabulary with one order.

Levels: `ok` < `warning` < `critical`; `insufficient data` (too little to judge) stands apart,
below `ok`, and is never an alarm. The drift stage's verdicts (drift/warning/stable/insufficient
data, in DVC-tracked metrics files) keep their own words; LEVEL_OF_VERDICT reads them as levels.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, TypeGuard, TypeVar

from kaizen.pipeline.metrics import direction

T = TypeVar("T")

OK, WARNING, CRITICAL = "ok", "warning", "critical"
INSUFFICIENT = "insufficient data"
LEVELS = (OK, WARNING, CRITICAL)  # ascending severity
# Severity as a number (metrics.prom's values too): insufficient data apart, below ok.
LEVEL_VALUES = {INSUFFICIENT: -1, OK: 0, WARNING: 1, CRITICAL: 2}
ICONS = {OK: "🟢", WARNING: "🟠", CRITICAL: "🔴", INSUFFICIENT: "⚪"}
COLOURS = {OK: "#2ca02c", WARNING: "#ff7f0e", CRITICAL: "#d62728", INSUFFICIENT: "#9e9e9e"}
LEVEL_OF_VERDICT = {
    "drift": CRITICAL,
    "warning": WARNING,
    "stable": OK,
    "insufficient data": INSUFFICIENT,
}
VERDICT_ICONS = {verdict: ICONS[level] for verdict, level in LEVEL_OF_VERDICT.items()}
# Drift effects as reports name them (keys: FeatureDrift.distance_name, verdicts.effect_name).
STATISTICS = {"psi": "PSI", "wasserstein_normed": "W₁/σ", "jensenshannon": "JS"}


def worst(levels: Iterable[str]) -> str:
    """The most severe level (ok when there is none)."""
    return max(levels, key=LEVEL_VALUES.__getitem__, default=OK)


def flagged(level: str) -> bool:
    """warning or critical: a level that asks for a look."""
    return LEVEL_VALUES[level] >= LEVEL_VALUES[WARNING]


def worst_first(items: Iterable[T], level: Callable[[T], str]) -> list[T]:
    """Critical, warning, ok, then insufficient data (stable within a level)."""
    return sorted(items, key=lambda item: (level(item) == INSUFFICIENT, -LEVEL_VALUES[level(item)]))


def is_number(value: object) -> TypeGuard[int | float]:
    """A real, finite number (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def fmt(value: object, signed: bool = False) -> str:
    """Short human form: ints as is, floats to 4 decimals (or 2 significant digits when tiny);
    an en dash for a missing or non-finite number."""
    if value is None or isinstance(value, float) and not math.isfinite(value):
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


def p_value(value: float | None) -> str:
    """A p-value: < 0.001 when tiny, else as `fmt`."""
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else fmt(value)


def mark(name: str, old: object, new: object) -> str:
    """✅ when the change improves the metric given its direction, ❌ when it worsens it, else –."""
    sense = direction(name)
    if not sense or not is_number(old) or not is_number(new) or old == new:
        return "–"
    return "✅" if (new - old) * sense > 0 else "❌"


def details(summary: str, body: str) -> str:
    """A collapsed HTML section (markdown inside renders on GitHub)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
