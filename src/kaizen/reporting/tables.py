"""The pull-request report's metrics and params tables, from dvc's diffs (pure markdown)."""

from __future__ import annotations

from kaizen.format import details, fmt, is_number, mark

# The evaluate metrics the report's table leads with; the others are folded away.
HEADLINE = (
    "current.roc_auc",
    "test.roc_auc",
    "cv.roc_auc",
    "cv.roc_auc_se",
    "current.cost",
    "test.cost",
    "cv.cost",
    "threshold",
    "current.calibration.hl_pvalue",
    "current.calibration.slope",
    "current.brier",
)
# Metrics that only mean something at a given threshold: not marked when the thresholds differ.
THRESHOLD_DEPENDENT = frozenset({"tp", "fp", "tn", "fn", "precision", "recall", "f1"})


def metrics_table(
    values: dict[str, dict], order: list[str] | None = None, unmarked: frozenset = frozenset()
) -> str:
    """`| metric | base | head | change | |` from dvc's {metric: {old, new, diff}}; metrics whose
    last name part is in `unmarked` get no ✅/❌."""
    names = [n for n in (order or []) if n in values] + sorted(
        n for n in values if n not in (order or [])
    )
    rows = ["| metric | base | head | change | |", "|---|--:|--:|--:|:-:|"]
    for name in names:
        entry = values[name]
        old, new = entry.get("old"), entry.get("new")
        change = new - old if is_number(old) and is_number(new) else None
        sign = "–" if name.split(".")[-1] in unmarked else mark(name, old, new)
        rows.append(
            f"| {name} | {fmt(old)} | {fmt(new)} | "
            f"{fmt(change, signed=True) if change is not None else '–'} | {sign} |"
        )
    return "\n".join(rows)


def evaluate_table(file: str, values: dict[str, dict], order: list[str] | None) -> str:
    """The model-quality table: headline metrics first, the rest in a collapsed section."""
    threshold = values.get("threshold") or {}
    differ = threshold.get("old") is not None and threshold.get("old") != threshold.get("new")
    unmarked = THRESHOLD_DEPENDENT if differ else frozenset()
    ordered = [n for n in (order or []) if n in values] + sorted(set(values) - set(order or []))
    lead = [n for n in HEADLINE if n in values]
    rest = [n for n in ordered if n not in lead]
    text = f"### Model metrics (`{file}`)\n\n" + metrics_table(
        {n: values[n] for n in lead}, lead, unmarked
    )
    if rest:
        table = metrics_table({n: values[n] for n in rest}, rest, unmarked)
        summary = f"{len(rest)} more metrics ({changed({n: values[n] for n in rest})} changed)"
        text += "\n\n" + details(summary, table)
    if differ:
        text += (
            f"\n\nThe decision thresholds differ ({fmt(threshold.get('old'))} → "
            f"{fmt(threshold.get('new'))}): counts, precision, recall and F1 are not marked."
        )
    return text


def params_table(diff: dict[str, dict]) -> str:
    """Changed params from dvc's {file: {param: {old, new}}}, or a line saying none changed."""
    rows = []
    for file, entries in diff.items():
        for name, entry in entries.items():
            rows.append(f"| {name} | {fmt(entry.get('old'))} | {fmt(entry.get('new'))} | {file} |")
    if not rows:
        return "### Params\n\nNo params changed."
    return "\n".join(
        ["### Params changed", "", "| param | base | head | file |", "|---|--:|--:|---|", *rows]
    )


def changed(values: dict[str, dict]) -> int:
    """Number of metrics whose value changed."""
    return sum(1 for entry in values.values() if entry.get("old") != entry.get("new"))
