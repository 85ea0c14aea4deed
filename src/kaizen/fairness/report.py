"""The fairness report's content: every declared attribute on every scored part, the groups the
AIR screen flags, the protected columns the model still uses, and the plot rows.

The reference group of an attribute is chosen once, on the test split (the largest group unless
params name one), and kept on the current part so that both parts compare the same groups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kaizen.fairness import groups as G
from kaizen.fairness.measures import attribute
from kaizen.fairness.params import FairnessConfig

SCREEN = (
    "The adverse impact ratio band is a screen (the four-fifths rule), not a legal verdict: "
    "a flagged group calls for review of the model and its inputs, nothing more."
)


def assess(
    parts: dict[str, pd.DataFrame],
    threshold: float,
    config: FairnessConfig,
    in_model: list[str],
    source: str = "data",
) -> dict[str, Any]:
    """Figures per attribute and part. Each part's frame has `y` (NaN when unlabelled), `score`
    and the protected columns; refusal is `score >= threshold`, the production rule."""
    rng = np.random.default_rng(config.seed)
    out: dict[str, Any] = {
        "threshold": round(float(threshold), 6),
        "min_group": config.min_group,
        "air_band": config.air_band,
        "bootstrap": config.bootstrap,
        "screen": SCREEN,
        "protected_in_model": [c for c in config.columns if c in in_model],
        "attributes": {},
    }
    flagged = []
    for spec in config.protected:
        assigned = {name: G.assign(f[spec.column], spec, source) for name, f in parts.items()}
        first = assigned.get("test", next(iter(assigned.values())))
        reference = G.reference_group(first, spec)
        results = {}
        for name, frame in parts.items():
            y = frame["y"].to_numpy(dtype="float64")
            labelled = len(y) > 0 and not np.isnan(y).any()
            score = frame["score"].to_numpy(dtype="float64")
            results[name] = attribute(
                y if labelled else None,
                score >= threshold,
                score,
                assigned[name],
                reference,
                config,
                rng,
            )
            flagged += [f"{name}: {spec.column} {group}" for group in results[name]["flagged"]]
        out["attributes"][spec.column] = {
            "bands": spec.bands,
            "in_model": spec.column in out["protected_in_model"],
            "parts": results,
        }
    out["flagged"] = flagged
    return out


def plot_rows(report: dict[str, Any]) -> pd.DataFrame:
    """Approval rate by group with its 95 % interval, one row per attribute, group and part."""
    rows = []
    for column, found in report["attributes"].items():
        for part, result in found["parts"].items():
            for group, row in result["groups"].items():
                low, high = row.get("approval_rate_ci", [None, None])
                rows.append(
                    {
                        "group": f"{column}: {group}",
                        "part": part,
                        "approval_rate": row["approval_rate"],
                        "low": low,
                        "high": high,
                        "n": row["n"],
                    }
                )
    return pd.DataFrame(rows, columns=["group", "part", "approval_rate", "low", "high", "n"])


def metrics(report: dict[str, Any]) -> dict[str, Any]:
    """The DVC metrics file: figures keyed attribute -> part -> group (no interval lists, which
    `dvc metrics` cannot diff), with counts of flags."""
    out: dict[str, Any] = {
        "threshold": report["threshold"],
        "flagged": len(report["flagged"]),
        "protected_in_model": len(report["protected_in_model"]),
    }
    for column, found in report["attributes"].items():
        for part, result in found["parts"].items():
            key = out.setdefault(column, {}).setdefault(part, {})
            if "equalized_odds_difference" in result:
                key["equalized_odds_difference"] = result["equalized_odds_difference"]
            for group, row in result["groups"].items():
                key[group] = {k: v for k, v in row.items() if not k.endswith("_ci")}
    if "stability" in report:
        out["reason_stability"] = {
            k: v for k, v in report["stability"].items() if not isinstance(v, list)
        }
    return out
