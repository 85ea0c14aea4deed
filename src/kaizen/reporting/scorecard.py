"""The PR report's scorecard section: the industry benchmark's CV and out-of-time ROC AUC next
to the model's (what a validator asks first), and the validator checks, each pass/fail."""

from __future__ import annotations

from kaizen.format import fmt

PARTS = (("cv", "CV (train split)"), ("test", "test"), ("current", "current (out-of-time)"))


def auc(metrics: dict | None, part: str) -> object:
    """`part.roc_auc` of a metrics file, or None."""
    values = (metrics or {}).get(part)
    return values.get("roc_auc") if isinstance(values, dict) else None


def section(model: dict | None, scorecard: dict | None, checks: list[dict] | None) -> str:
    """Markdown: the AUC table (model, scorecard, difference) and the checks."""
    if not scorecard:
        return ""
    lines = [
        "### Scorecard benchmark",
        "",
        "| ROC AUC | model | scorecard | model − scorecard |",
        "|---|---:|---:|---:|",
    ]
    for part, label in PARTS:
        ours, theirs = auc(model, part), auc(scorecard, part)
        if ours is None and theirs is None:
            continue
        gap = ours - theirs if isinstance(ours, float) and isinstance(theirs, float) else None
        lines.append(f"| {label} | {fmt(ours)} | {fmt(theirs)} | {fmt(gap, signed=True)} |")
    passed, failed = scorecard.get("checks_passed", 0), scorecard.get("checks_failed", 0)
    lines += ["", f"**Validator checks: {passed} passed, {failed} failed**", ""]
    for check in checks or []:
        ok = str(check.get("passed")).lower() in ("true", "1")
        lines.append(f"- {'✅' if ok else '❌'} `{check.get('check')}`: {check.get('detail')}")
    return "\n".join(lines)
