"""monitor: a window of stored prediction events against the bundle that scored them.

`kaizen monitor (--window 7d | --last N) [--until T] --output DIR` reads the window from the
event store (`--db` or KAIZEN_DB, as `kaizen serve`) and judges it against the bundle
(`--bundle` or KAIZEN_BUNDLE: its reference profile, test scores, threshold and figures; events
scored by another model version are counted, never judged against this one). It writes
DIR/report.json, report.md, metrics.prom and report.html (each atomically, before anything else
can fail), announces new breaches (log, and KAIZEN_ALERT_WEBHOOK when set), stores the run in
the same database and exits 0 for ok / warning / insufficient data, 2 for critical. Thresholds:
`monitor` (and `drift`, `evaluate` costs) of params.yaml when there is one, else the bundle's.
With `monitor.mode: sketch`, a --window's input drift is judged on the store's daily profiles
(`kaizen.commands.sketching`, docs/sketches.md: same store, same figures) instead of every input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import SecretStr, ValidationError

from kaizen import KaizenError
from kaizen.bundle import artifact, profile
from kaizen.commands import sketching
from kaizen.events import bundles, migrate, runs, windows
from kaizen.events.engine import create_engine
from kaizen.events.schema import utc
from kaizen.io import files, net
from kaizen.io.params import load_params
from kaizen.pipeline.ratios import with_ratios
from kaizen.format import flagged
from kaizen.monitoring import alerts, html, render
from kaizen.monitoring import signals as S
from kaizen.monitoring.drift_signals import volume_signal
from kaizen.monitoring.levels import Signal, overall
from kaizen.monitoring.window import Reference, Window, outcome_masks, window_facts
from kaizen.monitoring.report import ModelVersion, MonitorReport
from kaizen.runtime import Monitor

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


def load_reference(
    info: artifact.BundleInfo, test: pd.DataFrame, pii: tuple[str, ...], threshold: float
) -> Reference:
    """A bundle's reference profile (inputs and engineered ratios), test-split scores,
    recalibration map and evaluated figures."""
    kinds = {name: item.kind for name, item in info.profile.items() if name not in pii}
    return Reference(
        features=profile.rebuild(info.profile),
        numeric=[name for name, kind in kinds.items() if kind == "numeric"],
        categorical=[name for name, kind in kinds.items() if kind == "categorical"],
        scores=test["score"].to_numpy(dtype="float64"),
        labels=test["label"].to_numpy(),
        threshold=threshold,
        evaluated={
            "threshold": info.threshold.value,
            "cv": info.evaluated.cv,
            "test": info.evaluated.test,
        },
        model_version=info.version,
        recalibration=info.recalibration,
    )


def unmonitored(bundle: artifact.Bundle, pii: tuple[str, ...]) -> dict[str, str]:
    """The features left out of drift because they are personal data (KAIZEN_PII_FIELDS, as
    the API was run with) or are computed from it, each with why: the API stored them hashed or
    not at all, and the training reference is not hashed (drift on the hashes would need it
    hashed with the API's salt, which the monitor does not hold)."""
    out = {name: "personal data (KAIZEN_PII_FIELDS)" for name in pii}
    for name, top, bottom in bundle.ratios:
        sources = [column for column in (top, bottom) if column in pii]
        if sources:
            out[name] = f"computed from personal data ({', '.join(dict.fromkeys(sources))})"
    return out


def pii_note(skipped: dict[str, str]) -> str:
    """The report's note naming every feature drift was not computed on."""
    listed = "; ".join(f"{name}: {why}" for name, why in skipped.items())
    return f"Drift not computed (skipped, not computed on hashes) for {listed}."


def registered(
    engine, versions: list[str]
) -> dict[str, tuple[artifact.BundleInfo, pd.DataFrame] | str]:
    """Each version's registered bundle and test scores, read from the event database, or the
    reason it cannot be judged."""
    documents = bundles.read(engine, versions)
    out: dict[str, tuple[artifact.BundleInfo, pd.DataFrame] | str] = {}
    for version in versions:
        if version not in documents:
            out[version] = "not registered in the event database (never served by kaizen serve)"
            continue
        try:
            info = artifact.BundleInfo.model_validate(documents[version])
        except ValidationError as exc:
            out[version] = f"registered bundle unreadable ({exc.errors()[0]['msg']})"
            continue
        test = bundles.read_scores(engine, version)
        if test.empty:
            out[version] = (
                "registered without test scores (event store older than revision 3): start "
                "kaizen serve with its bundle once to register them"
            )
            continue
        out[version] = (info, test)
    return out


def by_version(frame: pd.DataFrame, newest: str | None) -> list[tuple[str, pd.DataFrame]]:
    """Events per model version, the newest event's first (grouped by code: no str per event)."""
    versions = frame["model_version"].astype("category")  # the read's categories: no copy
    codes, labels = versions.cat.codes.to_numpy(), [*map(str, versions.cat.categories), "nan"]
    present: dict[str, list[int]] = {}  # code -1 (missing) is "nan", as str() names it
    for code in np.unique(codes).tolist():
        present.setdefault(labels[code], []).append(code)
    order = sorted(present, key=lambda version: (version != newest, version))
    if len(order) == 1:  # the frame itself, not a copy
        return [(order[0], frame)]
    return [(v, frame[np.isin(codes, present[v])].reset_index(drop=True)) for v in order]


def version_history(past: list[dict], prefix: str) -> list[dict]:
    """Past runs as a section of version `prefix[:-1]` sees them: its own signals only."""
    return [
        {
            **run,
            "signals": {
                name[len(prefix) :]: item
                for name, item in run.get("signals", {}).items()
                if name.startswith(prefix)
            },
        }
        for run in past
    ]


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


def announce(  # pylint: disable=too-many-arguments,too-many-positional-arguments
    report: MonitorReport,
    signals: list[Signal],
    previous: dict,
    now: dt.datetime,
    params,
    webhook: SecretStr | None = None,
) -> set[str]:
    """Log every due alert and post them to the webhook (KAIZEN_ALERT_WEBHOOK); the names
    delivered (or logged when there is no webhook)."""
    config = params.monitor
    due = alerts.due(signals, previous, now, config.cooldown_hours)
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
    """Read the window, judge each model version's events against its own registered bundle,
    write the reports, alert, store the run."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if args.last is not None and args.last < 1:
        raise KaizenError("--last: must be a positive number of events")
    span = None if args.window is None else parse_window(args.window)
    until = parse_until(args.until, now)
    settings = Monitor.load(db=args.db, bundle=args.bundle)
    bundle = artifact.load(settings.bundle, model=False)  # no scikit-learn: ratios and schema
    # A checkout's params.yaml (thresholds tuned since the bundle was built) wins; a deployment
    # holding only the bundle uses the settings the bundle was built with.
    params = load_params(args.params) if Path(args.params).is_file() else bundle.monitoring()
    engine = create_engine(settings.db.get_secret_value())
    migrate.require_head(engine)  # the monitor reads and appends: it never creates tables
    raw_numeric = [name for name in bundle.schema.numeric if name not in settings.pii_fields]
    categorical = [name for name in bundle.schema.categorical if name not in settings.pii_fields]
    since = None if span is None else until - span
    sketched = sketch_mode(params.monitor, since)
    frame = windows.read_window(
        engine,
        [] if sketched else raw_numeric,  # sketch mode: scores, decisions, outcomes only
        [] if sketched else categorical,
        since=since,
        until=until,
        last=args.last,
        outcome_days=params.monitor.outcome_window_days,
    )
    if args.last is not None:
        since = windows.window_bounds(engine, until, args.last)
    past = runs.history(engine, params.monitor.history)
    span_of = (since, until, args.window is not None)
    report = judge(engine, frame, bundle, settings, params, past, span_of, now, sketched)
    content = report.to_dict()
    write_outputs(report, content, Path(args.output), now.timestamp())
    previous = past[0]["signals"] if past else {}
    signals = report.all_signals()
    try:
        sent = announce(report, signals, previous, now, params, settings.alert_webhook)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the run is saved anyway
        log.warning(
            "alerting failed (%s); the run is saved, alerts retried next run", type(exc).__name__
        )
        sent = set()
    run_id = runs.save_run(engine, content, alerts.alerted_at(signals, previous, sent, now))
    engine.dispose()
    return {
        "level": report.level,
        "exit_code": report.exit_code,
        "run_id": run_id,
        "events": report.window.events,
        "flagged": [s.name for s in signals if flagged(s.level)],
        "model_version": report.version,
        "model_versions": {item.version: item.events for item in report.model_versions},
        "estimated_auc": _finite(report.estimated.roc_auc),
        "output": str(args.output),
    }


def judge(  # pylint: disable=too-many-arguments,too-many-locals,too-many-positional-arguments
    engine,
    frame: pd.DataFrame,
    bundle: artifact.Bundle,
    settings,
    params,
    past,
    span,
    now,
    sketched: bool = False,
) -> MonitorReport:
    """One section per model version of the window, each judged against its own registered
    bundle (the workspace's when it scored the events and is not registered yet); the version
    of the newest event at the top level. Never a version against another's bundle."""
    since, until, by_time = span
    skipped = unmonitored(bundle, settings.pii_fields)
    absent = [name for name in settings.pii_fields if name in bundle.schema.numeric]
    groups = by_version(frame, bundles.latest_version(engine, until)) or [(bundle.version, frame)]
    found = registered(engine, [version for version, _ in groups])
    if isinstance(found.get(bundle.version), str):  # the workspace bundle, verified at load
        found[bundle.version] = (bundle.info, bundle.test_scores())
    sections: list[MonitorReport] = []
    versions: list[ModelVersion] = []

    def section(events, info, test, threshold, prefix: str) -> MonitorReport:
        reference = load_reference(info, test, tuple(skipped), threshold)
        summary = None
        if sketched and info.version == bundle.version and since is not None:
            source = sketching.Source(
                engine,
                bundle,
                reference,
                [name for name in bundle.schema.numeric if name not in settings.pii_fields],
                params.monitor.outcome_window_days,
                params.monitor.sketch_k,
            )
            summary = sketched_inputs(source, since, until, now, len(events))
        elif not sketched:  # sketch mode reads no inputs per event: another version's drift is
            events, _ = with_ratios(  # judged on its scores only
                events.assign(**dict.fromkeys(absent, np.nan)), bundle.ratios
            )
        window = Window(events, since, until, by_time=by_time and not prefix, profile=summary)
        history = past if not prefix else version_history(past, prefix)
        present = reference if summary is not None else _present(reference, events)
        found = S.analyse(window, present, params, history, now)
        if skipped:
            found = replace(found, notes=[*found.notes, pii_note(skipped)])
        return found

    for version, events in groups:
        entry = found[version]
        if isinstance(entry, str):
            versions.append(ModelVersion(version, len(events), False, entry))
            log.warning(
                "%s event(s) scored by model %s not judged: %s", f"{len(events):,}", version, entry
            )
            continue
        info, test = entry
        threshold = (
            bundle.decision_threshold(settings.threshold)
            if version == bundle.version
            else info.threshold.value
        )
        prefix = f"{version}/" if sections else ""
        sections.append(section(events, info, test, threshold, prefix))
        versions.append(
            ModelVersion(version, len(events), True, "judged against its registered bundle")
        )
    if not sections:  # nothing judgeable: the workspace bundle's report of no events
        threshold = bundle.decision_threshold(settings.threshold)
        sections.append(section(frame.iloc[0:0], bundle.info, bundle.test_scores(), threshold, ""))
    main, others = sections[0], sections[1:]
    whole = Window(frame, since, until, by_time)
    if len(groups) > 1:  # volume is the whole window's, not the newest version's share
        volume = volume_signal(whole, [run["events"] for run in past], params.monitor)
        main = replace(main, signals=[volume if s.name == "volume" else s for s in main.signals])
    labelled, matured = outcome_masks(whole)
    main = replace(main, sections=others, model_versions=versions)
    judged = next((v.events for v in versions if v.judged), 0)
    return replace(
        main,
        level=overall(main.all_signals(), judged, params.monitor.min_events),
        window=window_facts(whole, labelled, matured),
        notes=version_notes(bundle.version, versions) + list(main.notes),
    )


def version_notes(workspace: str, versions: list[ModelVersion]) -> list[str]:
    """One line when the window spans versions, one when the workspace's bundle scored none
    of its events (also logged)."""
    notes = []
    if len(versions) > 1:
        listed = ", ".join(
            f"{v.version} ({v.events:,} events{'' if v.judged else ': not judged, ' + v.note})"
            for v in versions
        )
        notes.append(
            f"The window spans {len(versions)} model versions: {listed}; each judged against "
            "its own registered bundle, never another's."
        )
    if versions and workspace not in {v.version for v in versions}:
        line = (
            f"The workspace's bundle ({workspace}) differs from the window's model version(s) "
            f"({', '.join(v.version for v in versions)}): the events are judged against the "
            "bundles that scored them."
        )
        log.warning("%s", line)
        notes.append(line)
    return notes


def _present(reference: Reference, events: pd.DataFrame) -> Reference:
    """The reference limited to the features the events carry (a version whose bundle
    engineered ratios the workspace's pipeline does not compute is judged on the rest)."""
    numeric = [name for name in reference.numeric if name in events]
    categorical = [name for name in reference.categorical if name in events]
    if (numeric, categorical) == (reference.numeric, reference.categorical):
        return reference
    return replace(reference, numeric=numeric, categorical=categorical)


def _finite(value):
    """A number or None."""
    return None if value is None or not np.isfinite(value) else value


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
    """The window's inputs from its daily profiles (built where missing) and exact partial
    days; a warning when they count other events than the per-event read (events stored
    meanwhile)."""
    summary = sketching.window_summary(source, since, until, now)
    if summary.rows != events:
        log.warning(
            "the window's profiles hold %s events, its scores %s: events were stored during "
            "the run",
            f"{summary.rows:,}",
            f"{events:,}",
        )
    return summary
