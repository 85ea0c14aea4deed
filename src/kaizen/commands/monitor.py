"""monitor: a window of stored prediction events against the training reference.

`kaizen monitor (--window 7d | --last N) [--until T] --output DIR` reads the window from the
event store (`--db` or KAIZEN_DB, as `kaizen serve`), writes DIR/report.json, report.md,
metrics.prom and report.html (each atomically, before anything else can fail), announces new
breaches (log, and KAIZEN_ALERT_WEBHOOK when set), stores the run in the same database and exits
0 for ok / warning / insufficient data, 2 for critical. Thresholds: `monitor` in params.yaml.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path

import numpy as np

from kaizen import KaizenError, files, scoring
from kaizen.commands.pipeline import stage_option
from kaizen.config import load_params
from kaizen.events import migrate, runs, windows
from kaizen.events.engine import create_engine
from kaizen.events.schema import utc
from kaizen.model import engineered
from kaizen.monitoring import alerts, html, render
from kaizen.monitoring import signals as S
from kaizen.serving.settings import load_settings

WINDOW = re.compile(r"^(\d+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WEBHOOK_ENV = "KAIZEN_ALERT_WEBHOOK"


def register(commands: argparse._SubParsersAction) -> None:
    """Add `monitor`."""
    cmd = commands.add_parser(
        "monitor",
        help="drift and performance of stored events; exit 2 when critical",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    span = cmd.add_mutually_exclusive_group(required=True)
    span.add_argument(
        "--window", help="events of the last DURATION before --until: 30m, 12h, 7d, 2w"
    )
    span.add_argument("--last", type=int, help="the last N events before --until")
    cmd.add_argument("--until", help="end of the window (ISO 8601, UTC if no zone; default now)")
    cmd.add_argument("--output", required=True, help="folder for report.json/md/html, metrics.prom")
    cmd.add_argument("--db", help="event store (default KAIZEN_DB, as kaizen serve)")
    cmd.add_argument("--model", help="served model (default KAIZEN_MODEL or dvc.yaml's train)")
    cmd.set_defaults(handler=monitor)


def parse_window(text: str) -> dt.timedelta:
    """'7d' -> 7 days; a one-line error otherwise."""
    match = WINDOW.match(text.strip())
    if not match or int(match[1]) == 0:
        raise KaizenError(f"--window: {text!r}: use a positive number and m, h, d or w, e.g. 7d")
    return dt.timedelta(**{UNITS[match[2]]: int(match[1])})


def parse_until(text: str | None, now: dt.datetime) -> dt.datetime:
    """--until as aware UTC (default now)."""
    if text is None:
        return now
    try:
        return utc(dt.datetime.fromisoformat(text))
    except ValueError:
        raise KaizenError(f"--until: {text!r} is not an ISO 8601 date or date-time") from None


def load_reference(model: scoring.Model, pii: tuple[str, ...]) -> S.Reference:
    """Training reference (drift stage's inputs), test-split scores and evaluate's figures."""
    schema = model.schema
    test = files.read_parquet(stage_option("drift", "test"))
    evaluated = files.read_json(Path(stage_option("evaluate", "output")) / "metrics.json")
    settings_threshold = os.environ.get("KAIZEN_THRESHOLD")
    threshold = float(settings_threshold) if settings_threshold else evaluated["threshold"]
    reference, ratios = engineered(
        model.pipeline, files.read_parquet(stage_option("drift", "reference"))
    )
    numeric = [name for name in schema.numeric + ratios if name not in pii]
    categorical = [name for name in schema.categorical if name not in pii]
    return S.Reference(
        features=reference,
        numeric=numeric,
        categorical=categorical,
        scores=model.scores(test[schema.features]),
        labels=test[schema.target].to_numpy(),
        threshold=float(threshold),
        evaluated=evaluated,
        model_version=model.version,
    )


def write_outputs(report: dict, output: Path, params, timestamp: float) -> None:
    """The four report files, each written atomically."""
    texts = {
        "report.md": render.markdown(report),
        "metrics.prom": render.prometheus(report, timestamp),
        "report.html": html.page(report, (params.drift.psi_warning, params.drift.psi_alert)),
    }
    files.write_json(report, output / "report.json")
    for name, text in texts.items():
        files.write_text(text, output / name)


def announce(report: S.MonitorReport, previous: dict, now: dt.datetime, params) -> set[str]:
    """Log every due alert and post them to the webhook; the names delivered (or logged when
    there is no webhook)."""
    config = params.monitor
    due = alerts.due(report.signals, previous, now, config.cooldown_hours)
    if not due:
        return set()
    for item in due:
        print(f"kaizen monitor: {alerts.line(item, config.runbook)}", file=sys.stderr)
    url = os.environ.get(WEBHOOK_ENV)
    if not url:
        return {item.name for item in due}
    body = alerts.payload(report.level, due, config.runbook, "see report.md")
    delivery = alerts.post(
        url,
        body,
        retries=config.webhook_retries,
        backoff=config.webhook_backoff,
        timeout=config.webhook_timeout,
    )
    if not delivery.ok:
        print(
            f"kaizen monitor: webhook failed after {delivery.attempts} attempt(s) "
            f"({delivery.error}); the report is written, the alert will be retried next run",
            file=sys.stderr,
        )
        return set()
    return {item.name for item in due}


def monitor(args: argparse.Namespace) -> dict:
    """Read the window, analyse, write the reports, alert, store the run."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if args.last is not None and args.last < 1:
        raise KaizenError("--last: must be a positive number of events")
    span = None if args.window is None else parse_window(args.window)
    until = parse_until(args.until, now)
    params = load_params(args.params)
    settings = load_settings(db=args.db, model=args.model)
    model = scoring.load(settings.model)
    reference = load_reference(model, settings.pii_fields)
    engine = create_engine(settings.db)
    migrate.require_head(engine)
    raw_numeric = [name for name in model.schema.numeric if name not in settings.pii_fields]
    since = None if span is None else until - span
    frame = windows.read_window(
        engine,
        raw_numeric,
        reference.categorical,
        since=since,
        until=until,
        last=args.last,
        outcome_days=params.monitor.outcome_window_days,
    )
    if args.last is not None:
        since = windows.window_bounds(engine, until, args.last)
    frame, _ = engineered(model.pipeline, frame)
    past = runs.history(engine, params.monitor.history)
    window = S.Window(frame, since, until, by_time=args.window is not None)
    report = S.analyse(window, reference, params, past, now)
    content = report.to_dict()
    write_outputs(content, Path(args.output), params, now.timestamp())
    previous = past[0]["signals"] if past else {}
    sent = announce(report, previous, now, params)
    run_id = runs.save_run(engine, content, alerts.alerted_at(report.signals, previous, sent, now))
    engine.dispose()
    flagged = [s.name for s in report.signals if s.level in (S.WARNING, S.CRITICAL)]
    return {
        "level": report.level,
        "exit_code": report.exit_code,
        "run_id": run_id,
        "events": len(frame),
        "flagged": flagged,
        "estimated_auc": _finite(content["estimated"].get("roc_auc")),
        "output": str(args.output),
    }


def _finite(value):
    """A number or None."""
    return None if value is None or not np.isfinite(value) else value
