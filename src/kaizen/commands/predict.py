"""predict: batch scoring with the bundle's pipeline; decisions at the bundle's threshold (the
API's) unless --threshold says otherwise. Input and output formats go by name: CSV, Parquet
(`.parquet`/`.pq`), a folder or glob of Parquet files; `--output DIR/` writes Parquet parts.
Engines (docs/scale.md): pandas streams a CSV in 100,000-row tables (read whole where that
could differ or fails, see `score_file`) and Parquet in Arrow batches; duckdb streams any input
(a SQL query too) under a memory limit; spark scores a Spark DataFrame on a cluster (local
mode by default)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa

from kaizen import KaizenError
from kaizen.io import batches as io_batches, files
from kaizen.bundle import artifact
from kaizen.engines.batch import native_threads, score_batch, unseen_text
from kaizen.engines.stream import in_order, score_batches
from kaizen.io.tables import read_raw, stream_raw
from kaizen.pipeline.data import Schema, coerce_features
from kaizen.runtime import Predict, bundle_folder

__all__ = ["score_file", "score_stream", "unseen_text"]

CHUNK = 100_000  # rows scored per task: bounded memory, and work for every core
WORKERS = min(4, os.cpu_count() or 1)  # scikit-learn's numeric steps release the GIL
READER_SWITCH = 0.001  # seconds: the interpreter's switch interval while reading and loading


def check_arguments(source: str, output: str, threshold: float | None, reasons: int) -> None:
    """One-line errors for flags that cannot work, before anything is read."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise KaizenError(f"--threshold: must lie in [0, 1], got {threshold}")
    if reasons < 0:
        raise KaizenError(f"--reasons: must be 0 or more, got {reasons}")
    if not io_batches.is_query(source) and Path(output).resolve() == Path(source).resolve():
        raise KaizenError(f"{output}: refusing to overwrite the input file")
    folder = Path(output.rstrip("/\\"))
    if io_batches.output_kind(output) == "folder" and folder.is_dir():
        # replaced whole: only an earlier output (Parquet parts, Spark's markers) may go
        others = [
            path.name
            for path in folder.iterdir()
            if not path.name.startswith(("part-", "_", ".")) or path.is_dir()
        ]
        if others:
            raise KaizenError(
                f"{output}: refusing to replace a folder that holds other files ({others[0]})"
            )


def score_file(  # pylint: disable=too-many-arguments
    bundle: str,
    source: str,
    output: str,
    *,
    threshold: float | None = None,
    separator: str = ",",
    reasons: int = 0,
    threads: int = 1,
) -> int:
    """Score every row of `source` (a CSV split by `separator`) with the bundle in folder
    `bundle`, adding `score`, `decision` (at `threshold`, default the bundle's), `unseen` (and
    `reason_1`…`reason_<reasons>`); written as CSV or Parquet by `output`'s name. The CSV is
    streamed block by block (`score_blocks`); where that fails (a parse error, a bad value, a
    value to quote in the output) it is read whole, which gives the same output or names the
    problem as it always has."""
    check_arguments(source, output, threshold, reasons)
    batches = stream_raw(source, separator, CHUNK)
    if batches is not None:
        try:
            return score_blocks(
                bundle,
                batches,
                source,
                output,
                threshold=threshold,
                reasons=reasons,
                threads=threads,
            )
        except (KaizenError, pa.ArrowInvalid):
            pass  # read whole below
    raw, features, loaded = read_while_loading(source, separator, bundle)
    if threshold is None:
        threshold = loaded.threshold
    task = partial(score_batch, loaded.model, threshold=threshold, reasons=reasons)
    starts = range(0, len(features), CHUNK)
    with native_threads(threads), ThreadPoolExecutor(WORKERS) as pool:
        added = pool.map(task, (features.iloc[start : start + CHUNK] for start in starts))
        parts = (
            raw.iloc[start : start + CHUNK].assign(**part) for start, part in zip(starts, added)
        )
        if io_batches.output_kind(output) == "csv":
            files.write_rows(parts, output)  # each chunk written while the next ones are scored
        else:
            with io_batches.frame_sink(output) as sink:
                for part in parts:
                    sink.write(part)
    return len(raw)


def score_blocks(  # pylint: disable=too-many-arguments
    bundle: str,
    batches: Iterator[pa.Table],
    source: str,
    output: str,
    *,
    threshold: float | None,
    reasons: int,
    threads: int,
) -> int:
    """Score the text batches of `stream_raw(source)`, each typed and scored on WORKERS threads
    while the next is parsed, written in order as it is done. The model unpickles on a thread
    meanwhile (the first batches are typed before it is loaded). A bad value, a parse error or an
    output value that needs quotes raises: `score_file` then reads the file whole."""
    info = artifact.verify(bundle)
    schema = Schema.from_dict(info.model["schema"])
    with contextlib.ExitStack() as limits, ThreadPoolExecutor(1) as loader:

        def load() -> artifact.Bundle:
            loaded = artifact.unpack(bundle, info)
            limits.enter_context(native_threads(threads))  # the libraries the model loaded too
            return loaded

        model = loader.submit(load)

        def task(frame: pd.DataFrame) -> pd.DataFrame:
            features = coerce_features(frame, schema, source)
            loaded = model.result()
            cut = loaded.threshold if threshold is None else threshold
            return frame.assign(
                **score_batch(loaded.model, features, threshold=cut, reasons=reasons)
            )

        with io_batches.frame_sink(output, requote=False) as sink:
            rows = in_order(batches, io_batches.to_frame, task, sink.write, WORKERS)
            if not rows:
                raise KaizenError(f"{source}: no data rows below the header")
    return rows


def score_stream(  # pylint: disable=too-many-arguments
    bundle: str,
    source: str,
    output: str,
    *,
    settings: Predict,
    threshold: float | None = None,
    reasons: int = 0,
    separator: str = ",",
) -> int:
    """Score `source` in Arrow batches of `settings.batch_rows` rows, read by pyarrow (Parquet)
    or DuckDB (`settings.engine`: any input, a SQL query too), memory bounded by the batch size
    (and DuckDB's `settings.memory_limit`) whatever the input size."""
    check_arguments(source, output, threshold, reasons)
    loaded = artifact.load(bundle)
    if settings.engine == "duckdb":
        batches = io_batches.duckdb_batches(
            source,
            settings.batch_rows,
            memory_limit=settings.memory_limit,
            threads=settings.workers,
            separator=separator,
        )
    else:
        batches = io_batches.parquet_batches(source, settings.batch_rows)
    label = source if not io_batches.is_query(source) else "query"
    with io_batches.frame_sink(output) as sink:
        return score_batches(
            loaded.model,
            batches,
            sink.write,
            io_batches.to_frame,
            label,
            threshold=loaded.threshold if threshold is None else threshold,
            reasons=reasons,
            workers=settings.workers,
            threads=settings.threads,
        )


def score_spark(  # pylint: disable=too-many-arguments
    bundle: str,
    source: str,
    output: str,
    *,
    settings: Predict,
    threshold: float | None = None,
    reasons: int = 0,
    separator: str = ",",
) -> int:
    """Score `source` with Spark (`settings.master`), writing a folder of Parquet parts."""
    # pylint: disable=import-outside-toplevel  # PySpark loads for this engine only
    from kaizen import spark as kaizen_spark
    from kaizen.io import spark as io_spark

    # pylint: enable=import-outside-toplevel

    check_arguments(source, output, threshold, reasons)
    if io_batches.output_kind(output) != "folder" and not io_spark.REMOTE.match(output):
        raise KaizenError(
            f"{output}: --engine spark writes a folder of Parquet parts: end it with /"
        )
    loaded = artifact.load(bundle)
    session, created = io_spark.session(settings.master, settings.threads)
    try:
        frame = io_spark.read(session, source, separator)
        result = kaizen_spark.score(
            frame, loaded, threshold=threshold, reasons=reasons, threads=settings.threads
        )
        io_spark.write(result, output)
        return int(session.read.parquet(output).count())
    finally:
        if created:
            session.stop()


def read_while_loading(
    source: str, separator: str, bundle: str
) -> tuple[pd.DataFrame, pd.DataFrame, artifact.Bundle]:
    """The bundle's hashes checked, then `read_features` on a thread while the model unpickles.
    Unpickling imports scikit-learn, most of a second of Python holding the interpreter lock,
    while pyarrow parses the file on the other cores; a 1 ms switch interval (5 ms by default)
    lets the reader's short calls in between (that phase: 0.97 instead of 1.13 s at 1M rows on
    2 cores, medians of 8 runs)."""
    info = artifact.verify(bundle)
    schema = Schema.from_dict(info.model["schema"])
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, READER_SWITCH))
    try:
        with ThreadPoolExecutor(1) as reader:
            pending = reader.submit(read_features, source, separator, schema)
            loaded = artifact.unpack(bundle, info)
            raw, features = pending.result()
    finally:
        sys.setswitchinterval(interval)
    return raw, features, loaded


def read_features(source: str, separator: str, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw text of `source` and the model's typed input columns."""
    raw = read_raw(source, separator)
    return raw, coerce_features(raw, schema, source)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `predict`."""
    cmd = commands.add_parser(
        "predict", help="score applications: CSV, Parquet (file, folder, glob) or a SQL query"
    )
    cmd.add_argument(
        "--bundle", help="the deployable folder (KAIZEN_BUNDLE, default models/bundle)"
    )
    cmd.add_argument(
        "--input", required=True, help="CSV, .parquet, a folder or glob of Parquet, SQL (duckdb)"
    )
    cmd.add_argument(
        "--output", required=True, help="CSV, .parquet, or DIR/ (a folder of Parquet parts)"
    )
    cmd.add_argument(
        "--threshold", type=float, default=None, help="refuse scores >= this (default: bundle's)"
    )
    cmd.add_argument("--separator", default=",", help="column separator of the input CSV")
    cmd.add_argument(
        "--reasons", type=int, default=0, metavar="K", help="add the K top reason codes per row"
    )
    cmd.add_argument("--engine", help="pandas (default), duckdb or spark (KAIZEN_ENGINE)")
    cmd.add_argument("--batch-rows", type=int, help="rows per Arrow batch (KAIZEN_BATCH_ROWS)")
    cmd.add_argument("--memory-limit", help="DuckDB's memory cap, e.g. 1GB (KAIZEN_MEMORY_LIMIT)")
    cmd.add_argument("--threads", type=int, help="OpenMP/BLAS threads per worker (KAIZEN_THREADS)")
    cmd.add_argument("--workers", type=int, help="batches scored at once (KAIZEN_WORKERS)")
    cmd.add_argument("--master", help="Spark master, default local[*] (KAIZEN_MASTER)")
    cmd.set_defaults(handler=predict)


def predict(args: argparse.Namespace) -> dict:
    """Score a batch of applications with the bundle's pipeline."""
    settings = Predict.load(
        engine=args.engine,
        batch_rows=args.batch_rows,
        memory_limit=args.memory_limit,
        threads=args.threads,
        workers=args.workers,
        master=args.master,
    )
    bundle = str(bundle_folder(args.bundle))
    common = {"threshold": args.threshold, "reasons": args.reasons, "separator": args.separator}
    if settings.engine == "spark":
        rows = score_spark(bundle, args.input, args.output, settings=settings, **common)
    elif settings.engine == "duckdb" or io_batches.is_parquet(args.input):
        rows = score_stream(bundle, args.input, args.output, settings=settings, **common)
    else:
        rows = score_file(bundle, args.input, args.output, threads=settings.threads, **common)
    return {"rows": rows, "engine": settings.engine, "output": args.output}
