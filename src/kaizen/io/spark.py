"""Spark's side of `kaizen predict --engine spark`: a session (local mode by default, any
`--master`), the input read as a DataFrame (Parquet file / folder / glob, or a CSV as text),
the scored DataFrame written as a folder of Parquet parts (atomically for a local folder)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from kaizen import KaizenError, runtime
from kaizen.io import files
from kaizen.io.batches import is_parquet
from kaizen.io.tables import NA_VALUES

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)  # s3a://, abfss://, dbfs:/ ...


def session(master: str, threads: int) -> tuple[SparkSession, bool]:
    """A Spark session, and whether it is new (then the caller stops it): every Python worker
    limited to `threads` OpenMP/BLAS threads (the scoring function limits them again,
    explicitly), Arrow batches, no UI. A session already active in this process is reused."""
    try:
        # pylint: disable-next=import-outside-toplevel  # the optional extra
        from pyspark.sql import SparkSession
    except ImportError:
        raise KaizenError(
            "--engine spark: PySpark is not installed (`pip install 'kaizen[spark]'` or "
            "`make install-spark`)"
        ) from None
    builder = SparkSession.builder.master(master)  # pylint: disable=no-member  # a classproperty
    builder = builder.appName("kaizen predict")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        builder = builder.config(f"spark.executorEnv.{name}", str(threads))
    if coretype := runtime.blas_coretype():  # runtime.blas_defaults: the same floats
        builder = builder.config("spark.executorEnv.OPENBLAS_CORETYPE", coretype)
    builder = builder.config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    created = SparkSession.getActiveSession() is None
    spark = builder.getOrCreate()
    if created:
        spark.sparkContext.setLogLevel("ERROR")  # errors reach the user as one line
    return spark, created


def read(spark: SparkSession, source: str, separator: str = ",") -> DataFrame:
    """Parquet (a file, a partitioned folder, a glob) or a CSV with a header split by
    `separator`, every cell as text, as `kaizen predict` types it: leading spaces dropped and
    pandas' missing markers (NA_VALUES: "", NA, N/A, null, nan...) missing, as in the pandas
    and DuckDB engines' reads (Spark's own CSV reader takes one null marker only)."""
    if not REMOTE.match(source) and not is_parquet(source) and not Path(source).is_file():
        raise KaizenError(f"{source}: file not found")
    if is_parquet(source) or Path(source).suffix.lower() in (".parquet", ".pq"):
        return spark.read.parquet(source)
    df = spark.read.csv(source, header=True, inferSchema=False, sep=separator)
    return df.select([_missing_markers(name) for name in df.columns])


def _missing_markers(name: str) -> Column:
    """A text column as `kaizen.io.tables.read_raw` reads it: leading spaces stripped
    (skipinitialspace), then a pandas missing marker as null."""
    # pylint: disable-next=import-outside-toplevel  # the optional extra, loaded by `read`
    from pyspark.sql import functions as F

    quoted = "`" + name.replace("`", "``") + "`"  # a dot in a name is not a struct's field
    text = F.ltrim(F.col(quoted))
    return F.when(text.isin(NA_VALUES), F.lit(None)).otherwise(text).alias(name)


def write(df: DataFrame, output: str) -> None:
    """`df` as a folder of Parquet parts: a local folder appears complete or not at all; a
    remote one (s3a://, abfss://, gs://) through Spark's own commit protocol. A task's
    KaizenError (a bad value in a row) is raised again as that one line."""
    try:
        if REMOTE.match(output):
            df.write.mode("overwrite").parquet(output)
            return
        with files.atomic_dir(output.rstrip("/\\")) as tmp:
            df.write.mode("overwrite").parquet(str(tmp))
    except Exception as exc:  # pylint: disable=broad-exception-caught  # Py4J wraps everything
        found = TASK_ERROR.search(str(exc))
        if found is None:
            raise
        raise KaizenError(found[1].strip()) from None


TASK_ERROR = re.compile(r"kaizen\.KaizenError: ([^\n]+)")
