"""Batch scoring engines: pandas (one process), DuckDB (one node, bounded memory) and Spark (a
cluster), all through `kaizen.engines.batch.score_batch`, the bundle's one scoring function."""
