"""predict: batch scoring of a CSV with the saved pipeline (the inference pipeline)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from kaizen import KaizenError, files, scoring
from kaizen.data import coerce_features, read_raw


def unseen_text(mask: pd.DataFrame, features: pd.DataFrame) -> pd.Series:
    """Per row, `column=value` for each unseen category, joined by '; ' ('' when none)."""
    text = pd.Series("", index=mask.index, dtype=object)
    for name in mask.columns:
        flagged = mask[name].to_numpy()
        if flagged.any():
            item = f"{name}=" + features.loc[flagged, name].astype(str)
            text[flagged] = np.where(text[flagged] == "", item, text[flagged] + "; " + item)
    return text


def reason_columns(reasons: list[list[tuple[str, float]]], k: int) -> dict[str, list[str]]:
    """`reason_1` … `reason_k`: the features that raised the score, largest first ('' after the
    last one that did)."""
    return {
        f"reason_{rank + 1}": [row[rank][0] if rank < len(row) else "" for row in reasons]
        for rank in range(k)
    }


def score_file(
    model: str,
    source: str,
    output: str,
    *,
    threshold: float | None = None,
    separator: str = ",",
    reasons: int = 0,
) -> int:
    """Score every row of `source` (a CSV split by `separator`), adding `score`, `unseen` (and
    `decision`, `reason_1`…`reason_<reasons>`)."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise KaizenError(f"--threshold: must lie in [0, 1], got {threshold}")
    if reasons < 0:
        raise KaizenError(f"--reasons: must be 0 or more, got {reasons}")
    if Path(output).resolve() == Path(source).resolve():
        raise KaizenError(f"{output}: refusing to overwrite the input file")
    loaded = scoring.load(model)
    raw = read_raw(source, separator)
    features = coerce_features(raw, loaded.schema, source)
    scored = raw.copy()
    scored["score"] = loaded.scores(features).round(6)
    if threshold is not None:
        scored["decision"] = np.where(scored["score"] >= threshold, "refuse", "accept")
    scored["unseen"] = unseen_text(loaded.unseen(features), features)
    if reasons:
        scored = scored.assign(**reason_columns(loaded.reasons(features, reasons), reasons))
    files.write_csv(scored, output, index=False)
    return len(scored)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `predict`."""
    cmd = commands.add_parser("predict", help="score a CSV of new applications")
    cmd.add_argument("--model", default="models/model.joblib")
    cmd.add_argument("--input", required=True)
    cmd.add_argument("--output", required=True)
    cmd.add_argument("--threshold", type=float, default=None, help="refuse scores >= this")
    cmd.add_argument("--separator", default=",", help="column separator of the input CSV")
    cmd.add_argument(
        "--reasons", type=int, default=0, metavar="K", help="add the K top reason codes per row"
    )
    cmd.set_defaults(handler=predict)


def predict(args: argparse.Namespace) -> dict:
    """Score a CSV with the saved pipeline."""
    rows = score_file(
        args.model,
        args.input,
        args.output,
        threshold=args.threshold,
        separator=args.separator,
        reasons=args.reasons,
    )
    return {"rows": rows, "output": args.output}
