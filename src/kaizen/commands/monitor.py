"""monitor: a window of stored prediction events against the bundle that scored them.

`kaizen monitor (--window 7d | --last N) [--until T] --output DIR` reads the window from the
event store (`--db` or KAIZEN_DB, as `kaizen serve`) and judges it against the bundle
(`--bundle` or KAIZEN_BUNDLE: its reference profile, test scores, threshold and figures; events
scored by another model version are counted, never judged against this one). It writes
DIR/report.json, report.md, metrics.prom and report.html (each atomically, before anything else
can fail), announces new breaches (log, and KAIZEN_ALERT_WEBHOOK when set), stores the run in
the same database and exits 0 for ok / warning / insufficient data, 2 for critical. Thresholds:
`monitor` (and `drift`, `evaluate` costs) of params.yaml when there is one, else the bundle's.
With `monitor.mode: sketch`, a --window's input drift is judged on the merged daily profiles of
the store (`kaizen.commands.sketching`, docs/sketches.md) instead of every event's inputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import SecretStr

from kaizen import KaizenError
from kaizen.bundle import artifact, profile
from kaizen.commands import sketching
from kaizen.events import migrate, runs, windows
from kaizen.events.engine import create_engine
from kaizen.events.schema import utc
from kaizen.io import files, net
from kaizen.io.params import load_params
from kaizen.pipeline.model import engineered
from kaizen.format import flagged
from kaizen.monitoring import alerts, html, render
from kaizen.monitoring import signals as S
from kaizen.monitoring.window import Reference, Window
from kaizen.monitoring.report import MonitorReport
from kaizen.runtime import Monitor
from kaizen.serving.pii import ratios
from kaizen.serving.service import decision_threshold

WINDOW = re.compile(r"^(\d+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
log = logging.getLogger(__name__)


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
    cmd.add_argument("--bundle", help="the served bundle (KAIZEN_BUNDLE, default models/bundle)")
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


def load_reference(bundle: artifact.Bundle, pii: tuple[str, ...], threshold: float) -> Reference:
    """The bundle's reference profile (inputs and engineered ratios), test-split scores and
    evaluated figures."""
    info = bundle.info
    kinds = {name: item.kind for name, item in info.profile.items() if name not in pii}
    test = bundle.test_scores()
    return Reference(
        features=profile.rebuild(info.profile),
        numeric=[name for name, kind in kinds.items() if kind == "numeric"],
        categorical=[name for name, kind in kinds.items() if kind == "categorical"],
        scores=test["score"].to_numpy(),
        labels=test["label"].to_numpy(),
        threshold=threshold,
        evaluated={
            "threshold": info.threshold.value,
            "cv": info.evaluated.cv,
            "test": info.evaluated.test,
        },
        model_version=bundle.version,
    )


def unmonitored(bundle: artifact.Bundle, pii: tuple[str, ...]) -> dict[str, str]:
    """The features left out of drift because they are personal data (KAIZEN_PII_FIELDS, as
    the API was run with) or are computed from it, each with why: the API stored them hashed or
    not at all, and the training reference is not hashed (drift on the hashes would need it
    hashed with the API's salt, which the monitor does not hold)."""
    out = {name: "personal data (KAIZEN_PII_FIELDS)" for name in pii}
    for name, top, bottom in ratios(bundle.model.pipeline):
        sources = [column for column in (top, bottom) if column in pii]
        if sources:
            out[name] = f"computed from personal data ({', '.join(dict.fromkeys(sources))})"
    return out


def pii_note(skipped: dict[str, str]) -> str:
    """The report's note naming every feature drift was not computed on."""
    listed = "; ".join(f"{name}: {why}" for name, why in skipped.items())
    return f"Drift not computed (skipped, not computed on hashes) for {listed}."


def scored_by(frame: pd.DataFrame, version: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """The window's events scored by model `version`, and the event count of every other
    version (never judged against this bundle)."""
    versions = frame["model_version"].astype(str)
    others = versions[versions != version].value_counts()
    counts = {str(name): int(count) for name, count in others.items()}
    if counts:
        listed = ", ".join(f"{name} ({count:,})" for name, count in sorted(counts.items()))
        log.warning(
            "%s event(s) of the window were scored by other model versions (%s), not by "
            "bundle %s: left out, never judged against it",
            f"{sum(counts.values()):,}",
            listed,
            version,
        )
    return frame[(versions == version).to_numpy()].reset_index(drop=True), counts


def write_outputs(report: MonitorReport, content: dict, output: Path, timestamp: float) -> None:
    """The four report files, each written atomically; `content` is report.json."""
    texts = {
        "report.md": render.markdown(report),
        "metrics.prom": render.prometheus(report, timestamp),
        "report.html": html.page(report),
    }
    files.write_json(content, output / "report.json")
    for name, text in texts.items():
        files.write_text(text, output / name)


def announce(
    report: MonitorReport,
    previous: dict,
    now: dt.datetime,
    params,
    webhook: SecretStr | None = None,
) -> set[str]:
    """Log every due alert and post them to the webhook (KAIZEN_ALERT_WEBHOOK); the names
    delivered (or logged when there is no webhook)."""
    config = params.monitor
    due = alerts.due(report.signals, previous, now, config.cooldown_hours)
    if not due:
        return set()
    for item in due:
        log.warning("%s", alerts.line(item, config.runbook))
    if webhook is None:
        return {item.name for item in due}
    body = alerts.payload(report.level, due, config.runbook, "see report.md")
    delivery = net.post(
        webhook.get_secret_value(),
        body,
        retries=config.webhook_retries,
        backoff=config.webhook_backoff,
        timeout=config.webhook_timeout,
    )
    if not delivery.ok:
        log.warning(
            "webhook %s failed after %d attempt(s) (%s); the report is written, the alert will "
            "be retried next run",
            net.origin(webhook.get_secret_value()),
            delivery.attempts,
            delivery.error,
        )
        return set()
    return {item.name for item in due}


def monitor(args: argparse.Namespace) -> dict:  # pylint: disable=too-many-locals
    """Read the window, analyse, write the reports, alert, store the run."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if args.last is not None and args.last < 1:
        raise KaizenError("--last: must be a positive number of events")
    span = None if args.window is None else parse_window(args.window)
    until = parse_until(args.until, now)
    settings = Monitor.load(db=args.db, bundle=args.bundle)
    bundle = artifact.load(settings.bundle)
    # A checkout's params.yaml (thresholds tuned since the bundle was built) wins; a deployment
    # holding only the bundle uses the settings the bundle was built with.
    params = load_params(args.params) if Path(args.params).is_file() else bundle.monitoring()
    skipped = unmonitored(bundle, settings.pii_fields)
    reference = load_reference(bundle, tuple(skipped), decision_threshold(settings, bundle))
    engine = create_engine(settings.db.get_secret_value())
    migrate.require_head(engine)  # the monitor reads and appends: it never creates tables
    raw_numeric = [name for name in bundle.model.schema.numeric if name not in settings.pii_fields]
    since = None if span is None else until - span
    sketched = sketch_mode(params.monitor, since)
    frame = windows.read_window(
        engine,
        [] if sketched else raw_numeric,  # sketch mode: scores, decisions, outcomes only
        [] if sketched else reference.categorical,
        since=since,
        until=until,
        last=args.last,
        outcome_days=params.monitor.outcome_window_days,
    )
    if args.last is not None:
        since = windows.window_bounds(engine, until, args.last)
    frame, others = scored_by(frame, bundle.version)
    absent = [name for name in settings.pii_fields if name in bundle.model.schema.numeric]
    summary = None
    if sketched and since is not None:
        source = sketching.Source(
            engine,
            bundle,
            reference,
            raw_numeric,
            params.monitor.outcome_window_days,
            params.monitor.sketch_k,
        )
        summary = sketched_inputs(source, since, until, now, len(frame))
    else:
        frame, _ = engineered(
            bundle.model.pipeline, frame.assign(**dict.fromkeys(absent, np.nan))
        )
    past = runs.history(engine, params.monitor.history)
    window = Window(frame, since, until, by_time=args.window is not None, profile=summary)
    report = S.analyse(window, reference, params, past, now)
    if skipped:
        report = dataclasses.replace(report, notes=[*report.notes, pii_note(skipped)])
    content = report.to_dict()
    write_outputs(report, content, Path(args.output), now.timestamp())
    previous = past[0]["signals"] if past else {}
    try:
        sent = announce(report, previous, now, params, settings.alert_webhook)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the run is saved anyway
        log.warning(
            "alerting failed (%s); the run is saved, alerts retried next run", type(exc).__name__
        )
        sent = set()
    run_id = runs.save_run(engine, content, alerts.alerted_at(report.signals, previous, sent, now))
    engine.dispose()
    names = [s.name for s in report.signals if flagged(s.level)]
    return {
        "level": report.level,
        "exit_code": report.exit_code,
        "run_id": run_id,
        "events": len(frame),
        "flagged": names,
        "model_version": bundle.version,
        "other_versions": others,
        "estimated_auc": _finite(report.estimated.roc_auc),
        "output": str(args.output),
    }


def sketch_mode(config, since: dt.datetime | None) -> bool:
    """monitor.mode sketch on a time window (a --last window is read exactly: said once)."""
    if config.mode != "sketch":
        return False
    if since is None:
        log.info(
            "monitor.mode sketch merges the daily profiles of a --window: --last N reads "
            "its events exactly"
        )
        return False
    return True


def sketched_inputs(source, since: dt.datetime, until: dt.datetime, now, events: int):
    """The window's inputs as merged daily profiles (built where missing); a warning when they
    count other events than the per-event read (events stored meanwhile)."""
    merged = sketching.window_profile(source, since, until, now)
    if merged.events != events:
        log.warning(
            "the window's profiles hold %s events, its scores %s: events were stored during "
            "the run",
            f"{merged.events:,}",
            f"{events:,}",
        )
    return merged.summary()


def _finite(value):
    """A number or None."""
    return None if value is None or not np.isfinite(value) else value
