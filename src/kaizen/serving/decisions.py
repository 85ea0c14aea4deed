"""From validated applications to stored decisions, batched across concurrent requests.

A fitted scikit-learn pipeline costs about the same for one row as for a hundred (its per-call
overhead dominates), and a durable commit costs one fsync whatever it holds. So one worker
thread takes every request waiting at that moment, scores their applications in one pipeline
call, writes all their events in one transaction, and only then releases each request with its
own answers (dynamic batching and group commit). A request is never answered before its events
are committed; if the commit fails, every request of that batch fails (503) and none is
acknowledged.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kaizen.data import Schema
from kaizen.serving.service import Service
from kaizen.serving.store import StoreError


@dataclass
class Job:
    """One request's applications, waiting for its events."""

    rows: list[dict[str, Any]]
    request_id: str
    started: float  # time.perf_counter() when the request arrived
    future: Future = field(default_factory=Future)


def features(schema: Schema, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The model's input frame from validated applications: numbers as float64 (null -> NaN),
    categories as objects (null -> NaN), as `kaizen.data.coerce_features` types a CSV."""
    columns = {
        name: np.array([np.nan if r[name] is None else r[name] for r in rows], dtype="float64")
        for name in schema.numeric
    }
    for name in schema.categorical:
        values = np.array([np.nan if r[name] is None else r[name].strip() for r in rows], object)
        columns[name] = values
    return pd.DataFrame(columns, columns=schema.features)


def decide(service: Service, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score, decision, reasons and unseen categories per application, in order."""
    model = service.model
    frame = features(model.schema, rows)
    scores, reasons = model.assess(frame, service.settings.reasons)
    unseen: list[dict[str, str]] = [{} for _ in rows]
    for name, flags in model.unseen(frame).items():
        for i in np.flatnonzero(flags.to_numpy()):
            unseen[i][name] = frame[name].iat[i]
    decisions = np.where(scores >= service.threshold, "refuse", "accept").tolist()
    return [
        {
            "score": score,
            "decision": decision,
            "reasons": [{"feature": f, "contribution": c} for f, c in why],
            "unseen": odd,
        }
        for score, decision, why, odd in zip(scores.tolist(), decisions, reasons, unseen)
    ]


def events(service: Service, job: Job, decided: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows to store for one request: one per application, PII scrubbed."""
    now = dt.datetime.now(dt.timezone.utc)
    latency_ms = round((time.perf_counter() - job.started) * 1000, 3)
    model = service.model
    pii = sorted(service.scrub.fields)
    return [
        {
            "prediction_id": str(uuid.uuid4()),
            "created_at": now,
            "request_id": job.request_id,
            "model_version": model.version,
            "schema_version": model.schema_version,
            "inputs": service.scrub(inputs),
            "pii_fields": pii,
            "threshold": service.threshold,
            "latency_ms": latency_ms,
            **answer,
        }
        for inputs, answer in zip(job.rows, decided)
    ]


class Batcher:
    """The one worker thread that scores and stores waiting requests together."""

    def __init__(self, service: Service, max_rows: int):
        self.service = service
        self.max_rows = max_rows
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="kaizen-batcher", daemon=True)

    def start(self) -> None:
        """Start the worker."""
        self._thread.start()

    def stop(self) -> None:
        """Finish the queued jobs, then stop the worker."""
        self._queue.put(None)
        self._thread.join()

    def submit(self, rows: list[dict[str, Any]], request_id: str, started: float) -> Future:
        """Queue one request; the future gives its stored events (or raises StoreError)."""
        job = Job(rows, request_id, started)
        self._queue.put(job)
        return job.future

    def _run(self) -> None:
        """Take the first waiting job, then every job already queued (up to max_rows)."""
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs, size, stop = [job], len(job.rows), False
            while size < self.max_rows:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                jobs.append(more)
                size += len(more.rows)
            self.process(jobs)
            if stop:
                return

    def process(self, jobs: list[Job]) -> None:
        """Score the jobs in one call and store them in one transaction; settle each future."""
        try:
            decided = decide(self.service, [row for job in jobs for row in job.rows])
        except Exception as exc:  # pylint: disable=broad-exception-caught  # to its request
            if len(jobs) == 1:
                jobs[0].future.set_exception(exc)  # answered 500 by its request
            else:  # one bad job must not fail the others: retry each alone
                for job in jobs:
                    self.process([job])
            return
        batches, start = [], 0
        for job in jobs:
            batches.append(events(self.service, job, decided[start : start + len(job.rows)]))
            start += len(job.rows)
        try:
            self.service.store.record([event for batch in batches for event in batch])
        except StoreError as exc:
            self.service.metrics.store_errors.labels("record").inc(len(jobs))
            for job in jobs:
                job.future.set_exception(exc)
            return
        self._count([event for batch in batches for event in batch])
        for job, batch in zip(jobs, batches):
            job.future.set_result(batch)

    def _count(self, stored: list[dict[str, Any]]) -> None:
        """Prometheus: stored events, scores, decisions."""
        metrics = self.service.metrics
        metrics.stored.inc(len(stored))
        for event in stored:
            metrics.scores.observe(event["score"])
            metrics.decisions.labels(event["decision"]).inc()
