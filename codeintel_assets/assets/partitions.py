"""The one partitions definition: a dynamic partition per repository-relative file path."""

from dagster import DynamicPartitionsDefinition

FILES = DynamicPartitionsDefinition(name="files")
DUCKDB_POOL = "codeintel_duckdb"  # concurrency pool of one: a single writer for the DuckDB file
