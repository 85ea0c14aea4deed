"""Shared test data of the report tests: per-row scores, curve points, drift records."""

from __future__ import annotations

import numpy as np
import pandas as pd

RNG_ROWS = 400


def scores(seed: int = 0, rows: int = RNG_ROWS, noise: float = 1.0, start: int = 1):
    """A `row,y,score` frame: score = label + noise (less noise = better model)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    score = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, noise, rows))))
    return pd.DataFrame({"row": np.arange(start, start + rows), "y": y, "score": score})


def metrics_file(auc: float) -> dict:
    """A minimal evaluate metrics.json."""
    part = {"rows": RNG_ROWS, "roc_auc": auc, "roc_auc_low": auc - 0.02, "roc_auc_high": auc + 0.02}
    return {"threshold": 0.2, "test": dict(part), "current": dict(part)}


def roc_points(frame: pd.DataFrame) -> list[dict]:
    """dvclive-like ROC points of a scores frame."""
    order = frame.sort_values("score", ascending=False)
    tpr = np.r_[0, np.cumsum(order["y"]) / order["y"].sum()]
    fpr = np.r_[0, np.cumsum(1 - order["y"]) / (1 - order["y"]).sum()]
    return [{"fpr": f, "tpr": t, "threshold": None} for f, t in zip(fpr, tpr)]


def pr_points(frame: pd.DataFrame) -> list[dict]:
    """dvclive-like precision-recall points of a scores frame."""
    order = frame.sort_values("score", ascending=False)
    hits = np.cumsum(order["y"])
    ranks = np.arange(1, len(order) + 1)
    return [
        {"precision": p, "recall": r, "threshold": 0.5}
        for p, r in zip(hits / ranks, hits / order["y"].sum())
    ]


DRIFT = {
    "verdict": "drift",
    "rows_reference": 2477,
    "rows_current": 1975,
    "features_total": 13,
    "features_drift": 1,
    "features_warning": 1,
    "drifted_share": 1 / 13,
    "score_psi": 0.031,
    "score_verdict": "stable",
    "target_rate_reference": 0.2814,
    "target_rate_current": 0.2815,
    "psi": {"Expenses": 0.40, "Age": 0.01},
}


def drift_feature(name: str, psi: float, verdict: str, kind: str = "numeric") -> dict:
    """One entry of features.json, as the drift stage writes it."""
    numeric = kind == "numeric"
    return {
        "feature": name,
        "kind": kind,
        "psi": psi,
        "test": "ks" if numeric else "chi2",
        "p_value": 1e-9 if verdict == "drift" else 0.4,
        "distance": 0.2,
        "distance_name": "wasserstein" if numeric else "jensen-shannon",
        "missing_reference": 0.0,
        "missing_current": 0.01,
        "missing_change": 0.01,
        "unseen": [] if numeric else ["new_level"],
        "verdict": verdict,
        "method": "psi",
    }


FEATURES = [drift_feature("Expenses", 0.40, "drift"), drift_feature("Home", 0.12, "warning", "cat")]
FEATURES += [drift_feature(f"f{i}", 0.01, "stable") for i in range(11)]
