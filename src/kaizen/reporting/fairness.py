"""The PR report's fairness section: per protected group, what changed between base and head
(approval rate, adverse impact ratio), groups whose AIR leaves (or re-enters) the screening band,
and protected attributes the head model uses."""

from __future__ import annotations

LEAVES = "⚠️ leaves the band"
RETURNS = "back in the band"
BELOW = "⚠️ below band"


def _rate(value: float | None) -> str:
    """0.4567 -> '0.457', None -> '-'."""
    return "-" if value is None else f"{value:.3f}"


def _movement(before: dict | None, after: dict, band: float) -> str:
    """How the group's screen changed."""
    now_below = after["air_screen"] == "below band"
    if before is None:  # no base figure (first report, or a new group): nothing left the band
        return BELOW if now_below else after["air_screen"]
    was_below = before.get("air_screen") == "below band"
    if now_below and not was_below:
        return LEAVES
    if was_below and not now_below and after["judged"]:
        return RETURNS
    if now_below:
        return f"below {band} (as on base)"
    return after["air_screen"]


def rows(base: dict | None, head: dict) -> list[tuple[str, str, str, dict | None, dict, str]]:
    """(attribute, part, group, base row, head row, movement) for every head group."""
    band = head["air_band"]
    out = []
    for column, found in head["attributes"].items():
        before_parts = ((base or {}).get("attributes", {}).get(column) or {}).get("parts", {})
        for part, result in found["parts"].items():
            before_groups = (before_parts.get(part) or {}).get("groups", {})
            for group, row in result["groups"].items():
                before = before_groups.get(group)
                out.append((column, part, group, before, row, _movement(before, row, band)))
    return out


def section(base: dict | None, head: dict | None) -> str:
    """Markdown, or '' when the head has no fairness report."""
    if not head or not head.get("attributes"):
        return ""
    found = rows(base, head)
    leaving = [f"{c} {g} ({p})" for c, p, g, _, _, m in found if m == LEAVES]
    below = [f"{c} {g} ({p})" for c, p, g, _, _, m in found if m == BELOW]
    lines = ["### Fairness (screen at the production threshold)", ""]
    if head.get("protected_in_model"):
        kept = ", ".join(head["protected_in_model"])
        lines += [f"⚠️ **Protected attributes used by the model: {kept}**", ""]
    if leaving:
        lines += [
            f"⚠️ Adverse impact ratio leaves the {head['air_band']} band: "
            f"{', '.join(leaving)}.",
            "",
        ]
    elif base is None:
        lines += ["No fairness report on the base: head figures only.", ""]
    if below:
        lines += [f"⚠️ Below the {head['air_band']} band (no base figure): {', '.join(below)}.", ""]
    else:
        lines += ["No group's adverse impact ratio leaves the band.", ""]
    lines += [
        "| attribute | part | group | n | approval base → head | AIR base → head | screen |",
        "|---|---|---|---:|---|---|---|",
    ]
    for column, part, group, before, row, movement in found:
        old = before or {}
        lines.append(
            f"| {column} | {part} | {group} | {row['n']:,} | "
            f"{_rate(old.get('approval_rate'))} → {_rate(row.get('approval_rate'))} | "
            f"{_rate(old.get('air'))} → {_rate(row.get('air'))} | {movement} |"
        )
    lines += ["", head.get("screen", "")]
    return "\n".join(lines)
