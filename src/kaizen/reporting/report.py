"""The pull-request report: markdown comparing the workspace (head) with a base revision.

Pure: every input arrives already loaded (`commands/report.py` does the git, dvc and file
access). Sections come from their own modules: tables, significance, charts, datadiff, drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kaizen.reporting.charts import curve_charts
from kaizen.config import ReportConfig
from kaizen.reporting.datadiff import DataChange, data_change_section
from kaizen.reporting.fairness import section as fairness_section
from kaizen.drift.rendering import features_table
from kaizen.format import VERDICT_ICONS, details, fmt, is_number
from kaizen.pipeline.metrics import PARTS
from kaizen.reporting import scorecard
from kaizen.reporting.significance import BOOTSTRAP, LEVEL, Interval, compare_scores
from kaizen.reporting.tables import changed, evaluate_table, metrics_table, params_table
from kaizen.reporting.valuediff import headline

CAP = 60_000  # characters; GitHub rejects comment bodies over 65,536
TOP_FEATURES = 10  # drift table rows shown
SOURCES = {
    "full": "every row (full score copies from the DVC cache)",
    "git": "the git copies of the scores (evenly thinned on large parts)",
}


def method_text(interval: Interval) -> str:
    """How the rows were paired, for the verdict sentence."""
    if not interval.comparable:
        return interval.note
    if interval.note:
        return f"paired bootstrap; {interval.note}"
    return f"paired bootstrap on the same {interval.rows:,} rows"


def interval_sentence(interval: Interval) -> str:
    """'ROC AUC (current, out-of-time) 0.845 → 0.851 (+0.006), **not significant**: ...'."""
    part = PARTS.get(interval.part, interval.part)
    if not interval.comparable:
        return (
            f"ROC AUC ({part}) {fmt(interval.auc_base)} → {fmt(interval.auc_head)}, "
            f"**not comparable**: {interval.note}"
        )
    verdict = interval.verdict
    if verdict.endswith("materiality threshold"):
        verdict += f" ({fmt(interval.min_delta)})"
    return (
        f"ROC AUC ({part}) {fmt(interval.auc_base)} → {fmt(interval.auc_head)} "
        f"({fmt(interval.difference, signed=True)}), **{verdict}**: {LEVEL * 100:.0f} % CI of "
        f"the difference [{fmt(interval.low, True)}, {fmt(interval.high, True)}] "
        f"({method_text(interval)})"
    )


def calibration_failed(values: dict | None, alpha: float) -> bool | None:
    """Whether a part's Hosmer-Lemeshow p-value is below alpha (None when unknown)."""
    pvalue = (values or {}).get("hl_pvalue")
    return pvalue < alpha if is_number(pvalue) else None


def calibration_sentence(inputs: "Inputs", part: str) -> str:
    """'Calibration (current, out-of-time) **❌ fails: p < 0.05**: Hosmer–Lemeshow 30.4
    (p = 0.0002), slope 0.85, intercept -0.2, ECE 0.024 (base: …).', or '' when not evaluated."""
    head = ((inputs.head_metrics or {}).get(part) or {}).get("calibration")
    alpha = inputs.settings.calibration_alpha
    failed = calibration_failed(head, alpha)
    if failed is None or head is None:
        return ""
    outcome = f"❌ fails: p < {fmt(alpha)}" if failed else f"passes: p ≥ {fmt(alpha)}"
    text = (
        f"Calibration ({PARTS.get(part, part)}) **{outcome}**: Hosmer–Lemeshow "
        f"{fmt(head.get('hl_statistic'))} (p = {fmt(head.get('hl_pvalue'))}), slope "
        f"{fmt(head.get('slope'))}, intercept {fmt(head.get('intercept'))}, ECE "
        f"{fmt(head.get('ece'))}"
    )
    base = ((inputs.base_metrics or {}).get(part) or {}).get("calibration")
    if base:
        text += f" (base: p = {fmt(base.get('hl_pvalue'))}, slope {fmt(base.get('slope'))})"
    return text + "."


def drift_section(metrics: dict | None, features: list | None, base: dict | None = None) -> str:
    """Dataset verdict, score drift, target rate and the most severe features."""
    if metrics is None:
        return "### Data drift\n\nDrift analysis not available (no drift metrics in the workspace)."
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
        lines += ["", features_table(features[:TOP_FEATURES])]
        if len(features) > TOP_FEATURES:
            rest = features[TOP_FEATURES:]
            counts = pd.Series([f.get("verdict") for f in rest]).value_counts()
            summary = ", ".join(f"{n} {v}" for v, n in counts.items())
            lines.append(f"\n{len(rest)} more feature(s), less severe: {summary}.")
    return "\n".join(lines)


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
    evaluate_file: str = ""  # the evaluate stage's metrics file (its table leads the report)
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
    settings: ReportConfig = field(default_factory=ReportConfig)
    # part -> (base, head): "full" (every row, DVC copy) or "git" (the capped git copy)
    score_sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    calibration: dict[str, pd.DataFrame | None] = field(default_factory=dict)  # head's tables
    scorecard: dict | None = None  # the scorecard benchmark's metrics (head)
    scorecard_checks: list[dict] | None = None  # its validator checks (head)
    fairness: tuple[dict | None, dict | None] = (None, None)  # report.json, base and head


def significance(inputs: Inputs) -> list[Interval]:
    """An interval per part scored on both sides, current first."""
    out = []
    for part in PARTS:
        base, head = inputs.scores.get(part, (None, None))
        if base is not None and head is not None and len(base) and len(head):
            out.append(
                compare_scores(part, base, head, inputs.bootstrap, inputs.settings.min_delta_auc)
            )
    return out


def source_note(inputs: Inputs, part: str) -> str:
    """Which score copies a part's test used, and why when it is not every row."""
    base, head = inputs.score_sources.get(part, ("", ""))
    if not base or not head:
        return ""
    if base == head == "full":
        return f"paired on {SOURCES['full']}"
    missing = [side for side, source in (("base", base), ("head", head)) if source != "full"]
    return (
        f"full scores of the {' and '.join(missing)} not available (not in the local DVC "
        f"cache nor on a DVC remote): paired on {SOURCES['git']}"
    )


def significance_section(intervals: list[Interval], inputs: Inputs | None = None) -> str:
    """Table of the ROC AUC differences, their intervals and verdicts, with notes."""
    if not intervals:
        return ""
    rows = [
        "### Is the difference real?",
        "",
        f"| part | ROC AUC base → head | difference | {LEVEL * 100:.0f} % CI | rows paired | "
        "verdict |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for item in intervals:
        interval = f"[{fmt(item.low, True)}, {fmt(item.high, True)}]" if item.comparable else "–"
        rows.append(
            f"| {PARTS.get(item.part, item.part)} | {fmt(item.auc_base)} → {fmt(item.auc_head)} | "
            f"{fmt(item.difference, True) if item.comparable else '–'} | {interval} | "
            f"{item.rows:,} | {item.verdict} |"
        )
    notes = [f"- {PARTS.get(i.part, i.part)}: {i.note}." for i in intervals if i.note]
    if inputs is not None:
        notes += [
            f"- {PARTS.get(i.part, i.part)}: {source_note(inputs, i.part)}."
            for i in intervals
            if source_note(inputs, i.part)
        ]
        notes.append(
            f"- Paired bootstrap of the rows both revisions scored ({inputs.bootstrap:,} "
            f"resamples); materiality threshold {fmt(inputs.settings.min_delta_auc)} "
            "(`report.min_delta_auc`)."
        )
    return "\n".join(rows + ([""] + notes if notes else []))


def calibration_table(frame: pd.DataFrame) -> str:
    """The bucket table: count, mean PD, observed rate, Jeffreys interval, binomial test."""
    rows = [
        "| bucket | scores | n | mean PD | observed rate | Jeffreys 95 % | binomial p | |",
        "|--:|---|--:|--:|--:|--:|--:|:-:|",
    ]
    for item in frame.to_dict("records"):
        inside = item["jeffreys_low"] <= item["mean_pd"] <= item["jeffreys_high"]
        rows.append(
            f"| {item['bucket']} | {fmt(item['score_low'])}–{fmt(item['score_high'])} | "
            f"{fmt(int(item['n']))} | {fmt(item['mean_pd'])} | {fmt(item['observed_rate'])} | "
            f"[{fmt(item['jeffreys_low'])}, {fmt(item['jeffreys_high'])}] | "
            f"{fmt(item['binom_pvalue'])} | {'✅' if inside else '❌'} |"
        )
    return "\n".join(rows)


def calibration_section(inputs: Inputs) -> str:
    """Head's calibration back-test per part: verdict line and bucket table (test collapsed)."""
    blocks = []
    for part, label in PARTS.items():
        frame = inputs.calibration.get(part)
        sentence = calibration_sentence(inputs, part)
        if frame is None or frame.empty or not sentence:
            continue
        body = (
            sentence
            + "\n\n"
            + calibration_table(frame)
            + "\n\n✅: the bucket's mean PD lies inside the Jeffreys interval of its observed "
            "default rate."
        )
        blocks.append(body if part == "current" else details(f"Calibration, {label}", body))
    return "### Calibration back-test\n\n" + "\n\n".join(blocks) if blocks else ""


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
        and all(i.comparable and i.low == i.high == 0 for i in intervals)
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
            values = f" ({headline(inputs.data.values)})" if inputs.data.values else ""
            sentences.append(
                f"Raw data changed: {inputs.data.rows_base:,} → {inputs.data.rows_head:,} rows"
                f"{values}."
            )
    return sentences


def verdict_section(inputs: Inputs, intervals: list[Interval]) -> str:
    """Title and the one-paragraph verdict."""
    title = f"## Kaizen model report: `{inputs.head_label}` vs `{inputs.base_label}`"
    sentences = []
    part = headline_part(inputs.head_metrics)
    calibration = calibration_sentence(inputs, part) if part else ""
    if part is None:
        sentences.append("No metrics in the workspace: run `dvc repro` before `kaizen report`.")
    elif inputs.base_metrics is None:
        head = (inputs.head_metrics or {})[part]
        sentences.append(
            f"**First report**: the base `{inputs.base_label}` has no metrics yet; head values "
            f"only. ROC AUC ({PARTS[part]}) {fmt(head.get('roc_auc'))} "
            f"[{fmt(head.get('roc_auc_low'))}, {fmt(head.get('roc_auc_high'))}]."
        )
        sentences.append(calibration)
    elif no_changes(inputs, intervals):
        sentences.append(
            f"**No changes** against `{inputs.base_label}`: metrics, params, data and scores are "
            "identical."
        )
        if inputs.code:
            sentences.append("The code changed without changing any result.")
        sentences.append(calibration)
    else:
        ordered = sorted(intervals, key=lambda i: i.part != part)
        sentences += [interval_sentence(i) + "." for i in ordered[:1]]
        if not intervals:
            sentences.append("No per-row scores on both sides: no significance test.")
        sentences.append(calibration)
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
    return title + "\n\n" + " ".join(sentence for sentence in sentences if sentence)


def metrics_sections(inputs: Inputs) -> tuple[str, str]:
    """The model-quality table (open) and every other metrics file (collapsed)."""
    main, others = "", []
    for file, values in inputs.metrics_diff.items():
        if not isinstance(values, dict) or not values:
            continue
        if file == inputs.evaluate_file:
            main = evaluate_table(file, values, inputs.metrics_order.get(file))
        else:
            table = metrics_table(values, inputs.metrics_order.get(file))
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
        Section("significance", significance_section(intervals, inputs), 1),
        Section("calibration", calibration_section(inputs), 2),
        Section(
            "scorecard",
            scorecard.section(inputs.head_metrics, inputs.scorecard, inputs.scorecard_checks),
            2,
        ),
        Section("params", params_table(inputs.params_diff), 2),
        Section("curves", curve_charts(inputs.curves), 6),
        Section("images", "### Images\n\n" + images if images else "", 6),
        Section("fairness", fairness_section(*inputs.fairness), 2),
        Section("drift", drift_section(inputs.drift, inputs.drift_features, inputs.base_drift), 3),
        Section("data change", data_change_section(inputs.data) if inputs.data else "", 3),
        Section("other metrics", other_metrics, 5),
        Section("pipeline", details("Pipeline (dvc dag)", inputs.dag) if inputs.dag else "", 7),
    ]
    return assemble(sections, inputs.cap)
