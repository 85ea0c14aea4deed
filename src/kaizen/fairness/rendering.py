"""The fairness report as Markdown: one table per attribute and part, the screen's caveat, the
protected columns the model still uses, and reason-code stability."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    ("approval_rate", "approval"),
    ("air", "AIR"),
    ("tpr", "TPR"),
    ("fpr", "FPR"),
    ("default_rate", "default rate"),
    ("observed_expected", "observed/expected"),
    ("mean_score", "mean score"),
)


def _figure(row: dict[str, Any], name: str) -> str:
    """'0.612 [0.58, 0.65]', or '-' when absent."""
    value = row.get(name)
    if value is None:
        return "-"
    interval = row.get(f"{name}_ci") or [None, None]
    if None in interval:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]"


def table(result: dict[str, Any]) -> list[str]:
    """One Markdown table: a row per group."""
    shown = [(k, t) for k, t in COLUMNS if any(k in r for r in result["groups"].values())]
    lines = [
        "| group | n | " + " | ".join(title for _, title in shown) + " | screen |",
        "|---|---:|" + "---:|" * len(shown) + "---|",
    ]
    for group, row in result["groups"].items():
        cells = " | ".join(_figure(row, key) for key, _ in shown)
        screen = row["air_screen"]
        mark = f"**{screen}**" if screen == "below band" else screen
        lines.append(f"| {group} | {row['n']:,} | {cells} | {mark} |")
    return lines


def stability_line(found: dict[str, Any] | None) -> str:
    """Reason-code stability in one sentence."""
    if not found or found.get("changed_share") is None:
        return "Reason-code stability: not measured (no refits or no refused applicant)."
    return (
        f"Reason-code stability: over {found['refits']} bootstrap refits of the train split, the "
        f"top reason of a refused test applicant changes for {found['changed_share']:.1%} of the "
        f"{found['refused']:,} refused (range over refits {found['changed_low']:.1%}-"
        f"{found['changed_high']:.1%}; method: {found['method']})."
    )


def markdown(report: dict[str, Any]) -> str:
    """The whole report."""
    lines = [
        "# Fairness report",
        "",
        f"At the production threshold (refuse when score >= {report['threshold']:.4f}); 95 % "
        f"bootstrap intervals ({report['bootstrap']} resamples), observed/expected with a "
        f"Jeffreys interval. Groups under {report['min_group']} applicants (or compared with a "
        "reference that small) are reported, never judged.",
        "",
        f"> {report['screen']} Band: AIR < {report['air_band']}.",
        "",
    ]
    kept = report["protected_in_model"]
    if kept:
        lines += [
            f"**Protected attributes used by the model: {', '.join(kept)}** "
            "(`train.exclude_protected: false`); they are never cited as reasons.",
            "",
        ]
    else:
        lines += ["No protected attribute is a model input (`train.exclude_protected`).", ""]
    for column, found in report["attributes"].items():
        for part, result in found["parts"].items():
            lines += [f"## {column} ({part}; reference group {result['reference']})", ""]
            lines += table(result)
            eod = result.get("equalized_odds_difference")
            if eod is not None:
                interval = result.get("equalized_odds_difference_ci") or [None, None]
                span = "" if None in interval else f" [{interval[0]:.3f}, {interval[1]:.3f}]"
                lines += ["", f"Equalized-odds difference (judged groups): {eod:.3f}{span}"]
            elif not result["labelled"]:
                lines += ["", "Unlabelled part: outcome-based figures skipped."]
            lines.append("")
    flagged = report["flagged"]
    lines.append(
        f"Flagged by the screen: {', '.join(flagged)}." if flagged else "No group flagged."
    )
    lines += ["", stability_line(report.get("stability")), ""]
    return "\n".join(lines)
