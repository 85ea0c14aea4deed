"""The model card as Markdown (reports/model_card.md), from the card's JSON content."""

from __future__ import annotations

from typing import Any, Callable

from kaizen.fairness.rendering import stability_line, table

TITLES = {
    "identity": "Identity",
    "intended_use": "Intended use",
    "data": "Data",
    "method": "Method",
    "performance": "Performance",
    "fairness": "Fairness",
    "explainability": "Explainability",
    "limitations": "Limitations",
    "monitoring": "Monitoring plan",
    "change_log": "Change log",
}


def _number(value: Any) -> str:
    """Figures to 4 significant digits; the rest as text."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _pairs(mapping: dict[str, Any]) -> list[str]:
    """`- key: value` lines."""
    return [f"- {key}: {_number(value)}" for key, value in mapping.items()]


def _rows(rows: list[dict[str, Any]]) -> list[str]:
    """A Markdown table of records (the columns of the first)."""
    if not rows:
        return []
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_number(r.get(c, "")) for c in columns) + " |" for r in rows]
    return lines


def identity(card: dict[str, Any]) -> list[str]:
    """Version and hashes."""
    found = dict(card)
    libraries = found.pop("libraries", {})
    return _pairs(found) + [f"- libraries: {', '.join(f'{k} {v}' for k, v in libraries.items())}"]


def intended_use(card: dict[str, Any]) -> list[str]:
    """The team's words."""
    lines = [card["intended"], "", "Out of scope:"] + [f"- {item}" for item in card["out_of_scope"]]
    return lines + (["", f"Owner: {card['owner']}"] if card.get("owner") else [])


def data(card: dict[str, Any]) -> list[str]:
    """Windows, target, sample, exclusions, protected attributes."""
    lines = ["Windows:"] + _pairs(card["windows"]) + ["", f"Target: {card['target']}", ""]
    lines += [f"Sample: {card['sample']}", "", "Exclusions:"] + _pairs(card["exclusions"])
    lines += ["", "Protected attributes:"]
    lines += [
        f"- {p['column']} (groups: {p['groups']}): {p['handling']}" for p in card["protected"]
    ]
    return lines or ["none declared"]


def method(card: dict[str, Any]) -> list[str]:
    """Model, features, coefficients, scorecard."""
    lines = [
        f"Model: {card['model']} {card['settings']}; calibration {card['calibration']}; "
        f"scaling {card['scaling']}.",
        "",
    ]
    lines += ["Decision threshold:"] + _pairs(card["threshold"]) + [""]
    lines += ["Permutation importance (test, drop in ROC AUC):", ""] + _rows(card["features"])
    if card.get("coefficients"):
        coefficients = [{"column": k, "coefficient": v} for k, v in card["coefficients"].items()]
        lines += ["", "Coefficients (log-odds per unit of the encoded column):", ""]
        lines += _rows(coefficients)
    if card.get("scorecard"):
        lines += ["", "Scorecard points (metrics/train/scorecard.csv):", ""] + _rows(
            card["scorecard"]
        )
    else:
        lines += [
            "",
            "Not a scorecard: the scorecard benchmark fitted beside it "
            "(metrics/train/scorecard.json) is compared with it in the pull-request report.",
        ]
    return lines


def performance(card: dict[str, Any]) -> list[str]:
    """CV, test and current figures."""
    lines = ["Cross-validation (train split, mean and s.e. over folds):"] + _pairs(card["cv"])
    for part in ("test", "current"):
        if part in card:
            found = dict(card[part])
            calibration = found.pop("calibration", {})
            lines += ["", f"{part}:"] + _pairs(found)
            lines += [
                f"- calibration: {', '.join(f'{k} {_number(v)}' for k, v in calibration.items())}"
            ]
    return lines


def fairness(card: dict[str, Any]) -> list[str]:
    """The fairness tables."""
    lines = [card["screen"], ""]
    if card["protected_in_model"]:
        lines += [f"**Protected attributes used by the model: {card['protected_in_model']}**", ""]
    for column, found in card["attributes"].items():
        for part, result in found["parts"].items():
            lines += [f"{column}, {part} (reference {result['reference']}):", ""]
            lines += table(result) + [""]
    flagged = card["flagged"]
    return lines + [f"Flagged: {', '.join(flagged)}." if flagged else "No group flagged."]


def explainability(card: dict[str, Any]) -> list[str]:
    """Reason-code method and stability."""
    never = ", ".join(card["never_cited"]) or "none declared"
    return [
        f"Method: {card['method']}.",
        f"Never cited as a reason: {never}.",
        stability_line(card["stability"]),
    ]


def limitations(card: list[str]) -> list[str]:
    """One bullet each."""
    return [f"- {item}" for item in card]


def monitoring(card: dict[str, Any]) -> list[str]:
    """Signals and thresholds."""
    return (
        [f"Run by {card['command']}.", "", "Signals:"]
        + _pairs(card["signals"])
        + ["", "Drift:"]
        + _pairs(card["drift"])
    )


def change_log(card: dict[str, Any]) -> list[str]:
    """Params and figures changed since the base revision."""
    if "note" in card:
        return [f"Base {card['base']}: {card['note']}"]
    lines = [f"Against base revision {card['base']} ({card['commit'][:12]}):", ""]
    params = [f"- {k}: {v['base']} -> {v['now']}" for k, v in card["params"].items()]
    figures = [
        f"- {k}: {_number(v['base'])} -> {_number(v['now'])} ({v['delta']:+.4f})"
        for k, v in card["figures"].items()
    ]
    return (
        lines
        + ["Params changed:"]
        + (params or ["- none"])
        + ["", "Figures:"]
        + (figures or ["- none comparable"])
    )


def markdown(card: dict[str, Any]) -> str:
    """The card."""
    renderers: dict[str, Callable[[Any], list[str]]] = {
        "identity": identity,
        "intended_use": intended_use,
        "data": data,
        "method": method,
        "performance": performance,
        "fairness": fairness,
        "explainability": explainability,
        "limitations": limitations,
        "monitoring": monitoring,
        "change_log": change_log,
    }
    lines = [f"# Model card: {card['identity']['model_version']}", ""]
    for key, title in TITLES.items():
        lines += [f"## {title}", ""] + renderers[key](card[key]) + [""]
    return "\n".join(lines)
