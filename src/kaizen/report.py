"""The pull-request report: markdown comparing the workspace (head) with a base revision.

Pure: every input arrives already loaded (see `stages/report.py` for git, dvc and file access).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kaizen import KaizenError
from kaizen.data import NUMERIC_SHARE, encode_target
from kaizen.metrics import (
    ResampledAuc,
    batches,
    direction,
    percentile_interval,
    resample_counts,
    roc_auc,
)

CAP = 60_000  # characters; GitHub rejects comment bodies over 65,536
BOOTSTRAP = 2000  # resamples for the ROC AUC difference
SEED = 42
LEVEL = 0.95
GRID = 21  # points per chart line (x = 0, 0.05, ..., 1)
TOP_FEATURES = 10  # drift table rows shown
PARTS = {"current": "current, out-of-time", "test": "test, in-time"}
EVALUATE = "metrics/evaluate/metrics.json"

COLOURS = {"base": "#9e9e9e", "head": "#1f77b4", "chance": "#d9d9d9"}
VERDICT_ICONS = {"drift": "🔴", "warning": "🟠", "stable": "🟢", "insufficient data": "⚪"}


# --- numbers and metric directions -------------------------------------------------------------


def is_number(value: object) -> bool:
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


# --- significance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:  # pylint: disable=too-many-instance-attributes
    """Head minus base ROC AUC, with its bootstrap interval."""

    part: str
    rows_base: int
    rows_head: int
    auc_base: float
    auc_head: float
    low: float
    high: float
    paired: bool
    note: str = ""

    @property
    def difference(self) -> float:
        """Head minus base, on all rows."""
        return self.auc_head - self.auc_base

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0 or self.high < 0


def paired_auc_difference(
    y, base, head, n_resamples: int = BOOTSTRAP, seed: int = SEED
) -> tuple[float, float]:
    """Percentile interval of AUC(head) - AUC(base), resampling rows jointly (same labels)."""
    y, base, head = np.asarray(y), np.asarray(base), np.asarray(head)
    rng = np.random.default_rng(seed)
    auc_head, auc_base = ResampledAuc(y, head), ResampledAuc(y, base)
    values = []
    for size in batches(len(y), n_resamples):
        counts = resample_counts(rng, len(y), size)
        values.extend(auc_head(counts) - auc_base(counts))
    return percentile_interval(values, LEVEL)


def unpaired_auc_difference(
    y_base, base, y_head, head, n_resamples: int = BOOTSTRAP, seed: int = SEED
) -> tuple[float, float]:
    """Percentile interval of AUC(head) - AUC(base) from independent bootstraps of each side."""
    rng = np.random.default_rng(seed)
    auc_head, auc_base = ResampledAuc(y_head, head), ResampledAuc(y_base, base)
    values = []
    for size in batches(max(len(y_base), len(y_head)), n_resamples):
        base_counts = resample_counts(rng, len(y_base), size)
        head_counts = resample_counts(rng, len(y_head), size)
        values.extend(auc_head(head_counts) - auc_base(base_counts))
    return percentile_interval(values, LEVEL)


def compare_scores(
    part: str, base: pd.DataFrame, head: pd.DataFrame, n_resamples: int = BOOTSTRAP
) -> Interval:
    """Paired interval when both sides scored the same rows with the same labels, else unpaired.

    Frames hold the columns `row`, `y`, `score` written by evaluate.
    """
    base = base.set_index("row").sort_index()
    head = head.set_index("row").sort_index()
    common = base.index.intersection(head.index)
    same_rows = len(common) == len(base) == len(head)
    mismatched = int((base.loc[common, "y"] != head.loc[common, "y"]).sum())
    common_args = {
        "part": part,
        "rows_base": len(base),
        "rows_head": len(head),
        "auc_base": roc_auc(base["y"], base["score"]),
        "auc_head": roc_auc(head["y"], head["score"]),
    }
    if same_rows and not mismatched:
        low, high = paired_auc_difference(
            head["y"], base.loc[head.index, "score"], head["score"], n_resamples
        )
        return Interval(**common_args, low=low, high=high, paired=True)
    if not same_rows:
        note = (
            f"rows differ: base {len(base):,}, head {len(head):,}, {len(common):,} in common "
            "(data or split changed)"
        )
    else:
        note = f"labels differ on {mismatched:,} of the {len(common):,} rows (data changed)"
    low, high = unpaired_auc_difference(
        base["y"], base["score"], head["y"], head["score"], n_resamples
    )
    return Interval(**common_args, low=low, high=high, paired=False, note=note)


def interval_sentence(interval: Interval) -> str:
    """'ROC AUC (current, out-of-time) 0.845 → 0.851 (+0.006), not significant: ...'."""
    verdict = "significant" if interval.significant else "not significant"
    method = (
        f"paired bootstrap on the same {interval.rows_head:,} rows"
        if interval.paired
        else f"unpaired bootstraps; {interval.note}"
    )
    return (
        f"ROC AUC ({PARTS.get(interval.part, interval.part)}) {fmt(interval.auc_base)} → "
        f"{fmt(interval.auc_head)} ({fmt(interval.difference, signed=True)}), **{verdict}**: "
        f"{LEVEL * 100:.0f} % CI of the difference "
        f"[{fmt(interval.low, True)}, {fmt(interval.high, True)}] ({method})"
    )


# --- charts ------------------------------------------------------------------------------------


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


# --- drift, data change ------------------------------------------------------------------------


def drift_section(metrics: dict | None, features: list | None, base: dict | None = None) -> str:
    """Dataset verdict, score drift, target rate and the most severe features."""
    if metrics is None:
        return "### Data drift\n\nDrift analysis not available (no `metrics/drift/metrics.json`)."
    verdict = metrics.get("verdict", "?")
    lines = [
        "### Data drift",
        "",
        f"**Dataset drift: {VERDICT_ICONS.get(verdict, '')} {verdict}**"
        + (f" (base: {base.get('verdict', '?')})" if base else ""),
        "",
        f"- features: {metrics.get('features_drift', 0)} drifted, "
        f"{metrics.get('features_warning', 0)} warning, of {metrics.get('features_total', 0)} "
        f"(reference {fmt(metrics.get('rows_reference'))} rows, current "
        f"{fmt(metrics.get('rows_current'))} rows)",
        f"- model score: PSI {fmt(metrics.get('score_psi'))}, "
        f"{metrics.get('score_verdict', 'not available')}",
    ]
    if metrics.get("target_rate_reference") is not None:
        lines.append(
            f"- target rate: {fmt(metrics.get('target_rate_reference'))} (reference) → "
            f"{fmt(metrics.get('target_rate_current'))} (current)"
        )
    if features:
        lines += ["", drift_table(features[:TOP_FEATURES])]
        if len(features) > TOP_FEATURES:
            rest = features[TOP_FEATURES:]
            counts = pd.Series([f.get("verdict") for f in rest]).value_counts()
            summary = ", ".join(f"{n} {v}" for v, n in counts.items())
            lines.append(f"\n{len(rest)} more feature(s), less severe: {summary}.")
    return "\n".join(lines)


def drift_table(features: list[dict]) -> str:
    """One row per feature, in the given (severity) order."""
    rows = [
        "| feature | kind | PSI | test | p-value | distance | missing Δ | unseen | verdict |",
        "|---|---|--:|---|--:|--:|--:|---|---|",
    ]
    for item in features:
        unseen = item.get("unseen") or []
        if isinstance(unseen, list):
            unseen = ", ".join(map(str, unseen[:3])) + (" …" if len(unseen) > 3 else "")
        distance = item.get("distance")
        distance_text = (
            f"{fmt(distance)} ({item.get('distance_name', '')})" if distance is not None else "–"
        )
        verdict = item.get("verdict", "?")
        rows.append(
            f"| {item.get('feature')} | {item.get('kind', '')} | {fmt(item.get('psi'))} | "
            f"{item.get('test') or '–'} | {fmt(item.get('p_value'))} | {distance_text} | "
            f"{fmt(item.get('missing_change'), signed=True)} | {unseen or '–'} | "
            f"{VERDICT_ICONS.get(verdict, '')} {verdict} |"
        )
    return "\n".join(rows)


def column_kind(values: pd.Series) -> str:
    """numeric when (almost) every non-missing value parses as a number, else categorical."""
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return "empty"
    share = pd.to_numeric(present, errors="coerce").notna().mean()
    return "numeric" if share >= NUMERIC_SHARE else "categorical"


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


# --- tables ------------------------------------------------------------------------------------


def metrics_table(values: dict[str, dict], order: list[str] | None = None) -> str:
    """`| metric | base | head | change | |` from dvc's {metric: {old, new, diff}}."""
    names = [n for n in (order or []) if n in values] + sorted(
        n for n in values if n not in (order or [])
    )
    rows = ["| metric | base | head | change | |", "|---|--:|--:|--:|:-:|"]
    for name in names:
        entry = values[name]
        old, new = entry.get("old"), entry.get("new")
        change = new - old if is_number(old) and is_number(new) else None
        rows.append(
            f"| {name} | {fmt(old)} | {fmt(new)} | "
            f"{fmt(change, signed=True) if change is not None else '–'} | {mark(name, old, new)} |"
        )
    return "\n".join(rows)


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


def details(summary: str, body: str) -> str:
    """A collapsed HTML section (markdown inside renders on GitHub)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def changed(values: dict[str, dict]) -> int:
    """Number of metrics whose value changed."""
    return sum(1 for entry in values.values() if entry.get("old") != entry.get("new"))


# --- assembly ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A report section; lower priority numbers are cut last (0 is never cut)."""

    key: str
    text: str
    priority: int


def assemble(sections: list[Section], cap: int = CAP) -> str:
    """Join sections, dropping the lowest-priority ones until the text fits `cap` characters."""
    kept = [s for s in sections if s.text]
    cut: list[str] = []

    def render(note: str = "") -> str:
        return "\n\n".join([s.text for s in kept] + ([note] if note else [])) + "\n"

    def note() -> str:
        return f"> ✂️ Cut to stay under {cap:,} characters: {', '.join(cut)}." if cut else ""

    while len(render(note())) > cap:
        cuttable = [s for s in kept if s.priority > 0]
        if not cuttable:
            cut.append("the end of the report")
            room = cap - len(note()) - 10
            return render()[:room].rsplit("\n", 1)[0] + "\n\n" + note() + "\n"
        victim = max(cuttable, key=lambda s: (s.priority, kept.index(s)))
        kept.remove(victim)
        cut.append(victim.key)
    return render(note())


@dataclass
class Inputs:  # pylint: disable=too-many-instance-attributes
    """Everything the report needs, already loaded."""

    base_label: str
    head_label: str
    shas: tuple[str, str] = ("", "")
    metrics_diff: dict[str, dict] = field(default_factory=dict)
    metrics_order: dict[str, list[str]] = field(default_factory=dict)
    params_diff: dict[str, dict] = field(default_factory=dict)
    base_metrics: dict | None = None
    head_metrics: dict | None = None
    scores: dict[str, tuple[pd.DataFrame | None, pd.DataFrame | None]] = field(default_factory=dict)
    curves: dict[tuple[str, str], tuple[list | None, list | None]] = field(default_factory=dict)
    drift: dict | None = None
    drift_features: list | None = None
    base_drift: dict | None = None
    data: DataChange | None = None
    code: list[str] = field(default_factory=list)  # pipeline code files changed since the base
    dag: str | None = None
    images: list[tuple[str, str]] = field(default_factory=list)
    bootstrap: int = BOOTSTRAP
    cap: int = CAP


def significance(inputs: Inputs) -> list[Interval]:
    """An interval per part scored on both sides, current first."""
    out = []
    for part in PARTS:
        base, head = inputs.scores.get(part, (None, None))
        if base is not None and head is not None and len(base) and len(head):
            out.append(compare_scores(part, base, head, inputs.bootstrap))
    return out


def significance_section(intervals: list[Interval]) -> str:
    """Table of the ROC AUC differences and their intervals."""
    if not intervals:
        return ""
    rows = [
        "### Is the difference real?",
        "",
        f"| part | ROC AUC base → head | difference | {LEVEL * 100:.0f} % CI | method | |",
        "|---|--:|--:|--:|---|:-:|",
    ]
    for item in intervals:
        method = "paired bootstrap" if item.paired else "unpaired bootstraps"
        verdict = "significant" if item.significant else "not significant"
        rows.append(
            f"| {PARTS.get(item.part, item.part)} | {fmt(item.auc_base)} → {fmt(item.auc_head)} | "
            f"{fmt(item.difference, True)} | [{fmt(item.low, True)}, {fmt(item.high, True)}] | "
            f"{method} | {verdict} |"
        )
    notes = [f"- {PARTS.get(i.part, i.part)}: {i.note}; unpaired fallback." for i in intervals]
    notes = [line for line, i in zip(notes, intervals) if not i.paired]
    return "\n".join(rows + ([""] + notes if notes else []))


def headline_part(metrics: dict | None) -> str | None:
    """current when evaluated, else test."""
    if not metrics:
        return None
    return next((part for part in PARTS if isinstance(metrics.get(part), dict)), None)


def no_changes(inputs: Inputs, intervals: list[Interval]) -> bool:
    """Same metrics, params, data and scores as the base."""
    return (
        inputs.base_metrics is not None
        and not any(changed(values) for values in inputs.metrics_diff.values())
        and not any(inputs.params_diff.values())
        and inputs.data is None
        and all(i.paired and i.low == i.high == 0 for i in intervals)
    )


def code_sentence(files: list[str], shown: int = 5) -> str:
    """'Code changed: `a`, `b` and 3 more.'"""
    names = ", ".join(f"`{name}`" for name in files[:shown])
    more = f" and {len(files) - shown} more" if len(files) > shown else ""
    return f"Code changed: {names}{more}."


def change_sentences(inputs: Inputs) -> list[str]:
    """What the head changed besides results: params, pipeline code, raw data."""
    sentences = []
    params = [
        f"`{name}` {fmt(entry.get('old'))} → {fmt(entry.get('new'))}"
        for entries in inputs.params_diff.values()
        for name, entry in entries.items()
    ]
    if params:
        shown = ", ".join(params[:5]) + (f" and {len(params) - 5} more" if len(params) > 5 else "")
        sentences.append(f"Params changed: {shown}.")
    if inputs.code:
        sentences.append(code_sentence(inputs.code))
    if inputs.data is not None:
        if inputs.data.rows_base is None:
            sentences.append(f"Raw data is new ({inputs.data.rows_head:,} rows).")
        else:
            sentences.append(
                f"Raw data changed: {inputs.data.rows_base:,} → {inputs.data.rows_head:,} rows."
            )
    return sentences


def verdict_section(inputs: Inputs, intervals: list[Interval]) -> str:
    """Title and the one-paragraph verdict."""
    title = f"## Kaizen model report: `{inputs.head_label}` vs `{inputs.base_label}`"
    sentences = []
    part = headline_part(inputs.head_metrics)
    if part is None:
        sentences.append("No metrics in the workspace: run `dvc repro` before `kaizen report`.")
    elif inputs.base_metrics is None:
        head = inputs.head_metrics[part]
        sentences.append(
            f"**First report**: the base `{inputs.base_label}` has no metrics yet; head values "
            f"only. ROC AUC ({PARTS[part]}) {fmt(head.get('roc_auc'))} "
            f"[{fmt(head.get('roc_auc_low'))}, {fmt(head.get('roc_auc_high'))}]."
        )
    elif no_changes(inputs, intervals):
        sentences.append(
            f"**No changes** against `{inputs.base_label}`: metrics, params, data and scores are "
            "identical."
        )
        if inputs.code:
            sentences.append("The code changed without changing any result.")
    else:
        ordered = sorted(intervals, key=lambda i: i.part != part)
        sentences += [interval_sentence(i) + "." for i in ordered[:1]]
        if not intervals:
            sentences.append("No per-row scores on both sides: no significance test.")
    sentences += change_sentences(inputs)
    if inputs.drift is not None:
        drift = inputs.drift
        sentences.append(
            f"Dataset drift: **{drift.get('verdict')}** ({drift.get('features_drift', 0)} of "
            f"{drift.get('features_total', 0)} features drifted; score PSI "
            f"{fmt(drift.get('score_psi'))})."
        )
    base_sha, head_sha = inputs.shas
    if base_sha:
        sentences.append(
            f"\n\n_Base `{inputs.base_label}` = `{base_sha}`; head = workspace of `{head_sha}`._"
        )
    return title + "\n\n" + " ".join(sentences)


def metrics_sections(inputs: Inputs) -> tuple[str, str]:
    """The model-quality table (open) and every other metrics file (collapsed)."""
    main, others = "", []
    for file, values in inputs.metrics_diff.items():
        if not isinstance(values, dict) or not values:
            continue
        table = metrics_table(values, inputs.metrics_order.get(file))
        if file == EVALUATE:
            main = f"### Model metrics (`{file}`)\n\n" + table
        else:
            summary = f"<code>{file}</code>: {changed(values)} of {len(values)} changed"
            others.append(details(summary, table))
    if not main and inputs.head_metrics is None:
        main = "### Model metrics\n\nNo metrics found."
    return main, "\n\n".join(others)


def build(inputs: Inputs) -> str:
    """The whole report, at most `inputs.cap` characters."""
    intervals = significance(inputs)
    main_metrics, other_metrics = metrics_sections(inputs)
    images = "\n\n".join(f"![{title}]({path})" for title, path in inputs.images)
    sections = [
        Section("verdict", verdict_section(inputs, intervals), 0),
        Section("model metrics", main_metrics, 1),
        Section("significance", significance_section(intervals), 1),
        Section("params", params_table(inputs.params_diff), 2),
        Section("curves", curve_charts(inputs.curves), 6),
        Section("images", "### Images\n\n" + images if images else "", 6),
        Section("drift", drift_section(inputs.drift, inputs.drift_features, inputs.base_drift), 3),
        Section("data change", data_change_section(inputs.data) if inputs.data else "", 3),
        Section("other metrics", other_metrics, 5),
        Section("pipeline", details("Pipeline (dvc dag)", inputs.dag) if inputs.dag else "", 7),
    ]
    return assemble(sections, inputs.cap)
