"""What changed in the raw data file between two revisions: rows, columns, types, target rate."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kaizen import KaizenError
from kaizen.data import column_kind, encode_target
from kaizen.markdown import fmt


def target_rate(frame: pd.DataFrame, target: str, positive: object) -> float | None:
    """Share of positive rows, or None when the target is absent or unusable."""
    if target not in frame.columns:
        return None
    try:
        return float(encode_target(frame[target], str(positive), target, "data").mean())
    except KaizenError:
        return None


@dataclass(frozen=True)
class DataChange:  # pylint: disable=too-many-instance-attributes
    """How the raw data file changed between base and head."""

    path: str
    rows_base: int | None
    rows_head: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: dict[str, tuple[str, str]] = field(default_factory=dict)
    rate_base: float | None = None
    rate_head: float | None = None
    base_path: str | None = None  # when params moved the data to another file


def data_change(
    path: str,
    base: pd.DataFrame | None,
    head: pd.DataFrame,
    target: str,
    positive: object,
    *,
    base_path: str | None = None,
) -> DataChange:
    """Compare two raw frames (strings, as read by `data.read_raw`); `base` None = new file."""
    if base is None:
        return DataChange(path, None, len(head), rate_head=target_rate(head, target, positive))
    shared = [name for name in head.columns if name in base.columns and name != target]
    retyped = {}
    for name in shared:
        kinds = column_kind(base[name]), column_kind(head[name])
        if kinds[0] != kinds[1]:
            retyped[name] = kinds
    return DataChange(
        path,
        len(base),
        len(head),
        added=[name for name in head.columns if name not in base.columns],
        removed=[name for name in base.columns if name not in head.columns],
        retyped=retyped,
        rate_base=target_rate(base, target, positive),
        rate_head=target_rate(head, target, positive),
        base_path=base_path if base_path != path else None,
    )


def data_change_section(change: DataChange) -> str:
    """Markdown for a changed raw data file."""
    lines = ["### Raw data changed", ""]
    if change.rows_base is None:
        lines.append(f"`{change.path}` is new in head: {change.rows_head:,} rows.")
        return "\n".join(lines)
    delta = change.rows_head - change.rows_base
    source = f"`{change.base_path}` (base) → " if change.base_path else ""
    lines.append(
        f"{source}`{change.path}` differs from base: rows {change.rows_base:,} → "
        f"{change.rows_head:,} ({delta:+,})."
    )
    lines.append("")
    lines.append(f"- columns added: {', '.join(change.added) or 'none'}")
    lines.append(f"- columns removed: {', '.join(change.removed) or 'none'}")
    retyped = ", ".join(f"{name} ({a} → {b})" for name, (a, b) in change.retyped.items())
    lines.append(f"- type changes: {retyped or 'none'}")
    if change.rate_base is not None or change.rate_head is not None:
        lines.append(f"- target rate: {fmt(change.rate_base)} → {fmt(change.rate_head)}")
    return "\n".join(lines)
