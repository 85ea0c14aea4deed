"""Mermaid line charts of ROC and precision-recall curves, base vs head (rendered by GitHub)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kaizen.format import details
from kaizen.pipeline.metrics import PARTS

GRID = 21  # points per chart line (x = 0, 0.05, ..., 1)
COLOURS = {"base": "#9e9e9e", "head": "#1f77b4", "chance": "#d9d9d9"}


def roc_on_grid(points: list[dict], points_n: int = GRID) -> list[float]:
    """True positive rate at evenly spaced false positive rates (linear interpolation)."""
    frame = pd.DataFrame(points)[["fpr", "tpr"]].astype("float64")
    frame = frame.groupby("fpr", as_index=False)["tpr"].max().sort_values("fpr")
    grid = np.linspace(0, 1, points_n)
    return list(np.interp(grid, frame["fpr"], frame["tpr"]))


def pr_on_grid(points: list[dict], points_n: int = GRID) -> list[float]:
    """Interpolated precision (best precision at recall >= r) at evenly spaced recalls r."""
    frame = pd.DataFrame(points)[["recall", "precision"]].astype("float64")
    frame = frame.sort_values("recall")
    recall = frame["recall"].to_numpy()
    best = np.maximum.accumulate(frame["precision"].to_numpy()[::-1])[::-1]
    out = []
    for r in np.linspace(0, 1, points_n):
        position = np.searchsorted(recall, r - 1e-12)
        out.append(float(best[position]) if position < len(best) else 0.0)
    return out


def mermaid_lines(title: str, x_label: str, y_label: str, lines: dict[str, list[float]]) -> str:
    """A Mermaid `xychart-beta` line chart; colours follow `COLOURS` (the chart has no legend)."""
    palette = ", ".join(COLOURS[name] for name in lines)
    body = [
        "```mermaid",
        f'%%{{init: {{"themeVariables": {{"xyChart": {{"plotColorPalette": "{palette}"}}}}}}}}%%',
        "xychart-beta",
        f'    title "{title}"',
        f'    x-axis "{x_label}" 0 --> 1',
        f'    y-axis "{y_label}" 0 --> 1',
    ]
    for values in lines.values():
        body.append("    line [" + ", ".join(f"{v:.3f}" for v in values) + "]")
    body.append("```")
    return "\n".join(body)


def curve_charts(curves: dict[tuple[str, str], tuple[list | None, list | None]]) -> str:
    """ROC and precision-recall charts of base vs head per part, from dvclive plot points."""
    blocks = []
    specs = {
        "roc": ("ROC", "false positive rate", "true positive rate", roc_on_grid),
        "precision_recall": ("Precision-recall", "recall", "precision", pr_on_grid),
    }
    for part, label in PARTS.items():
        charts = []
        for kind, (name, x_label, y_label, to_grid) in specs.items():
            base, head = curves.get((kind, part), (None, None))
            if head is None:
                continue
            lines = {}
            if base is not None:
                lines["base"] = to_grid(base)
            lines["head"] = to_grid(head)
            if kind == "roc":
                lines["chance"] = list(np.linspace(0, 1, GRID))
            charts.append(mermaid_lines(f"{name}, {label}", x_label, y_label, lines))
        if not charts:
            continue
        if part == "current" or "current" not in {p for _, p in curves}:
            blocks.append("\n\n".join(charts))
        else:
            blocks.append(details(f"Curves on {label}", "\n\n".join(charts)))
    if not blocks:
        return ""
    legend = (
        f"Grey: base, blue: head{' (no base curve: first report)' if _no_base(curves) else ''}; "
        "light grey: chance."
    )
    return "### Curves\n\n" + legend + "\n\n" + "\n\n".join(blocks)


def _no_base(curves: dict) -> bool:
    """No base curve at all."""
    return all(base is None for base, _ in curves.values())
