"""From validated applications to stored decisions, batched across concurrent requests.

A fitted scikit-learn pipeline costs about the same for one row as for a hundred (its per-call
overhead dominates), and a durable commit costs one fsync whatever it holds. So one worker
thread takes every request waiting at that moment and scores their applications in one pipeline
call; a second one writes the events of every batch scored meanwhile in one transaction (while
the first scores the next batch), and only then releases each request with its own answers
(dynamic batching and group commit). A request is never answered before its events
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
from typing import Any, Iterator

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


def drain(source: queue.SimpleQueue, limit: int, size) -> Iterator[list]:
    """Batches from a queue: wait for one item, then take every item already waiting, up to
    `limit` (summed with `size`); a None item ends the stream (after its batch)."""
    while True:
        first = source.get()
        if first is None:
            return
        batch, total, end = [first], size(first), False
        while total < limit:
            try:
                item = source.get_nowait()
            except queue.Empty:
                break
            if item is None:
                end = True
                break
            batch.append(item)
            total += size(item)
        yield batch
        if end:
            return


class Batcher:
    """Two worker threads: one scores the waiting requests together, the other commits what was
    scored, so that a batch is scored while the previous one is being flushed to disk."""

    def __init__(self, service: Service, max_rows: int):
        self.service = service
        self.max_rows = max_rows
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._scored: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._score_loop, name="kaizen-score", daemon=True),
            threading.Thread(target=self._write_loop, name="kaizen-store", daemon=True),
        ]

    def start(self) -> None:
        """Start both workers."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the queued jobs, then stop both workers."""
        self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def submit(self, rows: list[dict[str, Any]], request_id: str, started: float) -> Future:
        """Queue one request; the future gives its stored events (or raises StoreError)."""
        job = Job(rows, request_id, started)
        self._jobs.put(job)
        return job.future

    def _score_loop(self) -> None:
        for jobs in drain(self._jobs, self.max_rows, lambda job: len(job.rows)):
            scored = self.score(jobs)
            if scored:
                self._scored.put(scored)
        self._scored.put(None)

    def _write_loop(self) -> None:
        for groups in drain(self._scored, 4 * self.max_rows, len):
            self.write([pair for group in groups for pair in group])

    def score(self, jobs: list[Job]) -> list[tuple[Job, list[dict[str, Any]]]]:
        """The jobs' events, scored in one pipeline call; a job that cannot be scored gets its
        exception (answered 500) without failing the others."""
        try:
            decided = decide(self.service, [row for job in jobs for row in job.rows])
        except Exception as exc:  # pylint: disable=broad-exception-caught  # to its request
            if len(jobs) == 1:
                jobs[0].future.set_exception(exc)
                return []
            return [pair for job in jobs for pair in self.score([job])]
        pairs, start = [], 0
        for job in jobs:
            pairs.append((job, events(self.service, job, decided[start : start + len(job.rows)])))
            start += len(job.rows)
        return pairs

    def write(self, pairs: list[tuple[Job, list[dict[str, Any]]]]) -> None:
        """Store every event in one transaction, then release each request (or fail them all)."""
        stored = [event for _, batch in pairs for event in batch]
        try:
            self.service.store.record(stored)
        except StoreError as exc:
            self.service.metrics.store_errors.labels("record").inc(len(pairs))
            for job, _ in pairs:
                job.future.set_exception(exc)
            return
        metrics = self.service.metrics
        metrics.stored.inc(len(stored))
        for event in stored:
            metrics.scores.observe(event["score"])
            metrics.decisions.labels(event["decision"]).inc()
        for job, batch in pairs:
            job.future.set_result(batch)
