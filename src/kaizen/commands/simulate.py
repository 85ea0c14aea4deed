"""simulate-traffic: replay applications against a running `kaizen serve`, then send the
outcomes of a share of them, as production would months later (the monitoring demo).

`kaizen simulate-traffic [--input CSV|PARQUET] --url URL [--rate R] [--feedback-share S]`:
the input defaults to the current part (ingest's output); its target column, when present,
gives the outcomes; the feedback token is KAIZEN_FEEDBACK_TOKEN.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from kaizen import KaizenError
from kaizen.io import files
from kaizen.bundle import scoring
from kaizen.commands.pipeline import stage_option
from kaizen.pipeline.data import Schema, coerce_features, encode_target, read_raw
from kaizen.runtime import Simulate

SEED = 7


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
    cmd.add_argument("--batch", type=int, default=100, help="applications per request")
    cmd.add_argument(
        "--model", default=None, help="model whose schema the rows follow (default: train's)"
    )
    cmd.set_defaults(handler=simulate)


def read_rows(path: str, model_path: str) -> tuple[pd.DataFrame, pd.Series]:
    """Typed features and the 0/1 outcome (NaN when unknown) of every row."""
    layout = Schema.from_dict(scoring.read_info(model_path)["schema"])
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


def _post(url: str, body: dict, token: str | None = None) -> dict:
    """POST JSON, return the JSON answer; one-line errors."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip().splitlines()[:1]
        raise KaizenError(f"{url}: HTTP {exc.code} {' '.join(detail)[:200]}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise KaizenError(f"{url}: unreachable ({getattr(exc, 'reason', exc)})") from None


def applications(features: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready applications (NaN -> null)."""
    records = features.astype(object).where(features.notna(), None).to_dict("records")
    return [
        {k: (float(v) if isinstance(v, (int, float, np.number)) else v) for k, v in r.items()}
        for r in records
    ]


def simulate(args: argparse.Namespace) -> dict:
    """Send every row, then the outcomes of a share of the labelled rows."""
    if not 0 <= args.feedback_share <= 1:
        raise KaizenError("--feedback-share: must lie in [0, 1]")
    if args.rate is not None and args.rate <= 0:
        raise KaizenError("--rate: must be positive")
    if args.batch < 1:
        raise KaizenError("--batch: must be positive")
    settings = Simulate.load(model=args.model)
    source = args.input or stage_option("ingest", "current")
    features, outcome = read_rows(source, str(settings.model or stage_option("train", "model")))
    if features.empty:
        raise KaizenError(f"{source}: no rows to send")
    base = args.url.rstrip("/")
    rows = applications(features)
    ids: list[str] = []
    started = time.monotonic()
    for start in range(0, len(rows), args.batch):
        batch = rows[start : start + args.batch]
        answer = _post(f"{base}/predict", {"applications": batch})
        ids += [item["prediction_id"] for item in answer["predictions"]]
        if args.rate:
            ahead = (start + len(batch)) / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    labelled = np.flatnonzero(outcome.notna().to_numpy())
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
    for index in np.sort(chosen):
        body = {"prediction_id": ids[index], "outcome": int(values[index]), "observed_at": now}
        _post(f"{base}/feedback", body, token)
    return {
        "sent": len(ids),
        "feedback": int(chosen.size),
        "seconds": round(time.monotonic() - started, 2),
    }
