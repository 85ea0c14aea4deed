"""simulate-traffic: replay applications against a running `kaizen serve`, then send the
outcomes of a share of them, as production would months later (the monitoring demo).

`kaizen simulate-traffic [--input CSV|PARQUET] --url URL [--rate R] [--feedback-share S]
[--feedback accepted|all]`: the input defaults to the current part (ingest's output); its target
column, when present, gives the outcomes; the feedback token is KAIZEN_FEEDBACK_TOKEN.
`--feedback accepted` (the default) sends outcomes only for the applications the API accepted,
as in production: a refused applicant never gets the loan, so never repays or defaults (selective
labels, docs/monitoring-selective-labels.md). `all` sends refused applicants' outcomes too: a
demo of what no lender can observe.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kaizen import KaizenError
from kaizen import progress
from kaizen.io import files, net
from kaizen.bundle import artifact
from kaizen.commands.pipeline import stage_option
from kaizen.io.tables import read_raw
from kaizen.pipeline.data import Schema, coerce_features, encode_target
from kaizen.runtime import Simulate

SEED = 7
FEEDBACK = ("accepted", "all")
log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `simulate-traffic`."""
    cmd = commands.add_parser(
        "simulate-traffic", help="replay applications against a server, then send outcomes"
    )
    cmd.add_argument("--input", help="CSV or Parquet of applications (default: the current part)")
    cmd.add_argument(
        "--url", required=True, help="base URL of kaizen serve, e.g. http://127.0.0.1:8000"
    )
    cmd.add_argument(
        "--rate", type=float, help="applications per second (default: as fast as it goes)"
    )
    cmd.add_argument(
        "--feedback-share",
        type=float,
        default=0.0,
        help="share of rows whose outcome is sent (0-1)",
    )
    cmd.add_argument(
        "--feedback",
        choices=FEEDBACK,
        default="accepted",
        help="whose outcomes are sent: accepted applications only (default, as in production) "
        "or all (a demo: refused applicants never get an outcome in production)",
    )
    cmd.add_argument("--batch", type=int, default=100, help="applications per request")
    cmd.add_argument(
        "--bundle",
        help="bundle whose schema the rows follow (KAIZEN_BUNDLE, default models/bundle)",
    )
    cmd.set_defaults(handler=simulate)


def read_rows(path: str, bundle: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Typed features and the 0/1 outcome (NaN when unknown) of every row."""
    layout = Schema.from_dict(artifact.verify(bundle).model["schema"])
    if Path(path).suffix.lower() == ".parquet":
        frame = files.read_parquet(path)
        features = coerce_features(frame, layout, path)
        target = frame[layout.target] if layout.target in frame else None
        outcome = None if target is None else pd.to_numeric(target, errors="coerce")
    else:
        frame = read_raw(path)
        features = coerce_features(frame, layout, path)
        outcome = None
        if layout.target in frame:
            outcome = encode_target(
                frame[layout.target], layout.positive, layout.target, path, allow_missing=True
            )
    if outcome is None:
        outcome = pd.Series(np.nan, index=features.index)
    return features, outcome.astype("float64")


def applications(features: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready applications (NaN -> null)."""
    records = features.astype(object).where(features.notna(), None).to_dict("records")
    return [
        {k: (float(v) if isinstance(v, (int, float, np.number)) else v) for k, v in r.items()}
        for r in records
    ]


def simulate(args: argparse.Namespace) -> dict:  # pylint: disable=too-many-locals
    """Send every row, then the outcomes of a share of the labelled rows (of the accepted ones
    with `--feedback accepted`)."""
    if not 0 <= args.feedback_share <= 1:
        raise KaizenError("--feedback-share: must lie in [0, 1]")
    if args.rate is not None and args.rate <= 0:
        raise KaizenError("--rate: must be positive")
    if args.batch < 1:
        raise KaizenError("--batch: must be positive")
    settings = Simulate.load(bundle=args.bundle)
    source = args.input or stage_option("ingest", "current")
    features, outcome = read_rows(source, settings.bundle)
    if features.empty:
        raise KaizenError(f"{source}: no rows to send")
    base = args.url.rstrip("/")
    rows = applications(features)
    ids: list[str] = []
    accepted: list[bool] = []
    started = time.monotonic()
    starts = range(0, len(rows), args.batch)
    for start in progress.steps(starts, len(starts), "applications sent (batches)"):
        batch = rows[start : start + args.batch]
        answer = net.post_json(f"{base}/predict", {"applications": batch})
        ids += [item["prediction_id"] for item in answer["predictions"]]
        accepted += [item.get("decision") == "accept" for item in answer["predictions"]]
        if args.rate:
            ahead = (start + len(batch)) / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    eligible = outcome.notna().to_numpy().copy()
    feedback = getattr(args, "feedback", "accepted")
    if feedback == "accepted":
        eligible &= np.asarray(accepted, dtype=bool)
    else:
        log.warning(
            "--feedback all: outcomes of refused applicants are sent too, which cannot happen "
            "in production (a refused applicant never repays or defaults); a demo only"
        )
    labelled = np.flatnonzero(eligible)
    chosen = np.random.default_rng(SEED).permutation(labelled)[
        : math.floor(args.feedback_share * labelled.size)
    ]
    if chosen.size and settings.feedback_token is None:
        raise KaizenError(
            f"{Simulate.variable('feedback_token')}: needed to send outcomes (--feedback-share > 0)"
        )
    token = settings.feedback_token.get_secret_value() if settings.feedback_token else None
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    values = outcome.to_numpy()
    for index in progress.steps(np.sort(chosen), int(chosen.size), "outcomes sent"):
        body = {"prediction_id": ids[index], "outcome": int(values[index]), "observed_at": now}
        net.post_json(f"{base}/feedback", body, token)
    return {
        "sent": len(ids),
        "feedback": int(chosen.size),
        "feedback_policy": feedback,
        "accepted": int(np.count_nonzero(accepted)),
        "seconds": round(time.monotonic() - started, 2),
    }
