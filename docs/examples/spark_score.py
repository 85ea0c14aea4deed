"""Example Spark job: score a table of applications with a Kaizen bundle, where the data lives.

Not run by the tests (they run `kaizen.spark.score` in local mode: tests/integration/
test_spark.py); see docs/scale.md for Databricks, EMR and Dataproc. The cluster needs the
`kaizen` wheel (`pip wheel --no-deps .` in a clone, or `pip install 'kaizen[spark]'` where PyPI
is reachable) on the driver and every executor, and the bundle folder readable by the driver
(a local copy, a DBFS / Unity Catalog volume path, or downloaded from object storage first): the
driver verifies every SHA-256 of the bundle, then broadcasts the loaded model once.

    spark-submit docs/examples/spark_score.py \\
        --bundle /dbfs/models/credit/bundle \\
        --input s3a://lake/applications/date=2026-12-05/ \\
        --output s3a://lake/scores/date=2026-12-05/ [--table lake.scores] [--reasons 4]
"""

from __future__ import annotations

import argparse

from pyspark.sql import SparkSession

from kaizen import spark as kaizen_spark


def main() -> None:
    """Read Parquet (or a table), score it, write Parquet (or a table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, help="the bundle folder (models/bundle)")
    parser.add_argument("--input", required=True, help="Parquet path, or a table name")
    parser.add_argument("--output", help="Parquet path of the scores")
    parser.add_argument("--table", help="or: a table to write the scores to")
    parser.add_argument("--reasons", type=int, default=4, help="reason codes per application")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads per task")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("kaizen score").getOrCreate()
    if "/" in args.input or ":" in args.input:
        applications = spark.read.parquet(args.input)
    else:
        applications = spark.table(args.input)
    scored = kaizen_spark.score(
        applications, args.bundle, reasons=args.reasons, threads=args.threads
    )
    if args.table:
        scored.write.mode("append").saveAsTable(args.table)
    else:
        scored.write.mode("overwrite").parquet(args.output)


if __name__ == "__main__":
    main()
