"""events: the event store from the command line. `upgrade` migrates it to this Kaizen's
schema revision (a store made before migrations included), `init` is the same (it creates the
tables of an empty store; idempotent), `export` writes a window of events (every field, or a
training snapshot), `purge` applies retention, `check` runs the integrity check, `profile`
builds the missing daily profiles that `kaizen monitor` merges in sketch mode. The store is
`--db` or KAIZEN_DB."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd
from kaizen import KaizenError
from kaizen.bundle import artifact
from kaizen.commands import sketching
from kaizen.commands.monitor import load_reference, unmonitored
from kaizen.events import migrate, predictions
from kaizen.events.engine import EventEngine, create_engine
from kaizen.events.predictions import EVENT_FIELDS
from kaizen.events.schema import utc
from kaizen.io import files
from kaizen.io.params import load_params
from kaizen.runtime import Monitor as MonitorSettings
from kaizen.runtime import Store, bundle_folder
from kaizen.serving.pii import PREFIX

JSON_FIELDS = ("reasons", "unseen", "pii_fields")  # exported as JSON text
log = logging.getLogger(__name__)


def parse_time(value: str, option: str) -> dt.datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    try:
        return utc(dt.datetime.fromisoformat(value))
    except ValueError:
        raise KaizenError(f"{option}: {value!r} is not an ISO 8601 date or date-time") from None


def pii_applied(event: dict) -> dict:
    """An event's unseen categories and reasons under its own PII list: what this Kaizen
    stores, applied again to events stored by an older one (which kept a PII field's unseen
    category in plain text and its reason). A hashed category is kept; a plain one is left
    out (the export has no salt to hash it)."""
    pii = set(event["pii_fields"])
    if not pii:
        return event
    unseen = {
        name: value
        for name, value in event["unseen"].items()
        if name not in pii or str(value).startswith(PREFIX)
    }
    reasons = [reason for reason in event["reasons"] if reason.get("feature") not in pii]
    return {**event, "unseen": unseen, "reasons": reasons}


def event_table(events: list[dict]) -> pd.DataFrame:
    """Every event field, the outcome, then the inputs as columns (PII as stored; unseen
    categories and reasons of PII fields as this Kaizen stores them: `pii_applied`)."""
    events = [pii_applied(event) for event in events]
    base = pd.DataFrame(
        [{k: v for k, v in event.items() if k != "inputs"} for event in events],
        columns=EVENT_FIELDS + ["outcome", "observed_at"],
    )
    for name in JSON_FIELDS:
        base[name] = [json.dumps(value, separators=(",", ":")) for value in base[name]]
    base["outcome"] = base["outcome"].astype("Int8")
    inputs = pd.DataFrame([event["inputs"] for event in events], index=base.index)
    clash = sorted(set(inputs.columns) & set(base.columns))
    if clash:
        raise KaizenError(f"export: input column(s) {', '.join(clash)} clash with event fields")
    return pd.concat([base, inputs], axis=1)


TIME_COLUMN = "created_at"  # the training export's event time


def training_table(
    events: list[dict], info: dict, negative: str | None
) -> tuple[pd.DataFrame, list]:
    """`created_at` (the decision's time, ISO 8601 UTC: a date split for `kaizen data add
    --split-date created_at`), the raw data's columns, the target (positive label for 1,
    `negative` for 0); columns that were dropped or hashed as PII are left out (returned as the
    second item)."""
    schema = info["schema"]
    positive = schema["positive"]
    if negative is None:
        if positive not in ("1", "1.0", "True", "true"):
            raise KaizenError(
                f"--negative: name the target's other class (the positive one is {positive!r})"
            )
        negative = "0"
    scrubbed = sorted({name for event in events for name in event["pii_fields"]})
    columns = [c for c in schema["numeric"] + schema["categorical"] if c not in scrubbed]
    if TIME_COLUMN in columns or TIME_COLUMN == schema["target"]:
        raise KaizenError(f"--training: the data has a column {TIME_COLUMN!r}, the event time's")
    table = pd.DataFrame([event["inputs"] for event in events], columns=columns)
    table.insert(0, TIME_COLUMN, [_iso(event["created_at"]) for event in events])
    table[schema["target"]] = [positive if e["outcome"] == 1 else negative for e in events]
    return table, scrubbed


def _iso(value) -> str:
    """An event time as ISO 8601 in UTC (`2026-03-01T12:00:00+00:00`)."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat()


def write_table(table: pd.DataFrame, output: str) -> None:
    """Parquet or CSV by the file's extension; 0600 (events are personal data); CSV cells a
    spreadsheet would run as formulas are neutralised (`files.spreadsheet_safe`), Parquet
    keeps every value as stored."""
    suffix = Path(output).suffix.lower()
    if suffix == ".parquet":
        files.write_parquet(table.reset_index(drop=True), output, private=True)
    elif suffix == ".csv":
        files.write_csv(
            files.spreadsheet_safe(table), output, index=False, private=True, quote_text=True
        )
    else:
        raise KaizenError(f"--output: {output}: use a .parquet or .csv file")


def register(commands: argparse._SubParsersAction) -> None:
    """Add `events init|upgrade|export|purge|check|profile`."""
    cmd = commands.add_parser("events", help="the prediction event store")
    actions = cmd.add_subparsers(dest="action", required=True, metavar="action")
    init_cmd = actions.add_parser("init", help="create or upgrade the tables (idempotent)")
    upgrade_cmd = actions.add_parser("upgrade", help="migrate the store to this Kaizen's schema")
    export_cmd = actions.add_parser("export", help="write a window of events to Parquet or CSV")
    export_cmd.add_argument("--since", help="ISO date or date-time (inclusive, UTC by default)")
    export_cmd.add_argument("--until", help="ISO date or date-time (exclusive)")
    export_cmd.add_argument("--labelled-only", action="store_true", help="events with an outcome")
    export_cmd.add_argument(
        "--training", action="store_true", help="raw data columns + target (labelled events)"
    )
    export_cmd.add_argument(
        "--bundle", help="for --training: its schema (KAIZEN_BUNDLE, default models/bundle)"
    )
    export_cmd.add_argument("--negative", help="--training: target value of outcome 0")
    export_cmd.add_argument("--output", required=True, help="FILE.parquet or FILE.csv")
    purge_cmd = actions.add_parser("purge", help="delete events created before a date")
    purge_cmd.add_argument("--before", required=True, help="ISO date or date-time (UTC default)")
    check_cmd = actions.add_parser("check", help="integrity check of the store")
    profile_cmd = actions.add_parser(
        "profile", help="build the missing daily profiles (monitor.mode sketch)"
    )
    profile_cmd.add_argument("--since", help="first day (ISO; default 30 days before --until)")
    profile_cmd.add_argument("--until", help="end, exclusive (ISO; default now)")
    profile_cmd.add_argument("--bundle", help="the served bundle (KAIZEN_BUNDLE)")
    for sub, handler in (
        (init_cmd, init),
        (upgrade_cmd, upgrade),
        (export_cmd, export),
        (purge_cmd, purge),
        (check_cmd, check),
        (profile_cmd, profile),
    ):
        sub.add_argument("--db", help="a path, sqlite:///… or postgresql://… (KAIZEN_DB)")
        sub.set_defaults(action_handler=handler)
    cmd.set_defaults(handler=dispatch)


def dispatch(args: argparse.Namespace) -> dict:
    """Run the chosen action (`kaizen events <action>`)."""
    return args.action_handler(args)


def _engine(args: argparse.Namespace) -> EventEngine:
    """The store named by --db or KAIZEN_DB."""
    return create_engine(_db(args))


def _db(args: argparse.Namespace) -> str:
    """The store URL from --db or KAIZEN_DB (normalised by the settings)."""
    return Store.load(db=args.db).db.get_secret_value()


def init(args: argparse.Namespace) -> dict:
    """Create the tables if needed (an upgrade to this Kaizen's revision)."""
    db = _db(args)
    engine = create_engine(db)
    try:
        return {"db": _safe(db), "created": migrate.upgrade(engine).created}
    finally:
        engine.dispose()


def upgrade(args: argparse.Namespace) -> dict:
    """Migrate the store to this Kaizen's revision; the revisions before and after."""
    db = _db(args)
    engine = create_engine(db)
    try:
        done = migrate.upgrade(engine)
    finally:
        engine.dispose()
    return {"db": _safe(db), "from": done.before, "to": done.after}


def export(args: argparse.Namespace) -> dict:
    """Write the window's events."""
    since = parse_time(args.since, "--since") if args.since else None
    until = parse_time(args.until, "--until") if args.until else None
    info = artifact.verify(bundle_folder(args.bundle)).model if args.training else None
    engine = _engine(args)
    try:
        migrate.require_head(engine)
        events = predictions.events(
            engine, since, until, labelled_only=args.labelled_only or args.training
        )
    finally:
        engine.dispose()
    left_out: list[str] = []
    if info is not None:
        table, left_out = training_table(events, info, args.negative)
        if left_out:
            log.warning("PII column(s) left out: %s", ", ".join(left_out))
    else:
        table = event_table(events)
    write_table(table, args.output)
    return {"rows": len(table), "output": args.output, "left_out": left_out}


def purge(args: argparse.Namespace) -> dict:
    """Delete events (and their feedback) created before --before."""
    before = parse_time(args.before, "--before")
    engine = _engine(args)
    try:
        migrate.require_head(engine)
        return {"before": before.isoformat(), **predictions.purge(engine, before)}
    finally:
        engine.dispose()


def check(args: argparse.Namespace) -> dict:
    """Integrity check; a problem is a one-line error (exit 1)."""
    engine = _engine(args)
    try:
        migrate.require_head(engine)
        problems = predictions.integrity(engine)
        count = predictions.count(engine)
    finally:
        engine.dispose()
    if problems:
        raise KaizenError(f"event store: {'; '.join(problems)}")
    return {"events": count, "integrity": "ok"}


def profile(args: argparse.Namespace) -> dict:
    """Profile every day over in [--since, --until) that has no profile of the bundle's model
    version, or a stale one (its day's events changed since): what a nightly job runs, so that
    `kaizen monitor` in sketch mode only merges."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    until = parse_time(args.until, "--until") if args.until else now
    since = parse_time(args.since, "--since") if args.since else until - dt.timedelta(days=30)
    if since >= until:
        raise KaizenError("--since: must come before --until")
    settings = MonitorSettings.load(db=args.db, bundle=args.bundle)
    bundle = artifact.load(settings.bundle)
    params = load_params(args.params) if Path(args.params).is_file() else bundle.monitoring()
    skipped = tuple(unmonitored(bundle, settings.pii_fields))
    threshold = bundle.decision_threshold(settings.threshold)
    reference = load_reference(bundle.info, bundle.test_scores(), skipped, threshold)
    engine = create_engine(settings.db.get_secret_value())
    try:
        migrate.require_head(engine)
        source = sketching.Source(
            engine,
            bundle,
            reference,
            [name for name in bundle.model.schema.numeric if name not in settings.pii_fields],
            params.monitor.outcome_window_days,
            params.monitor.sketch_k,
        )
        days = sketching.complete_days(since, until, now)
        done = [(item.events, built) for item, built in sketching.daily(source, days, now)]
    finally:
        engine.dispose()
    return {
        "model_version": bundle.version,
        "days": len(days),
        "built": sum(built for _, built in done),
        "events": sum(events for events, _ in done),
    }


def _safe(url: str) -> str:
    """The store URL without its password."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{tail}"
