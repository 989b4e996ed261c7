"""Clickstream processing: landing JSON lines → processed Parquet by event date.

Two engines write the same rows: ``spark_job`` (Glue 5 / EMR, or Spark local mode) and
``duckdb_job`` (one process, in chunks, so its memory stays flat at any input size).
``run`` picks DuckDB unless told otherwise or the batch cannot fit the local disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings

ENGINES = ("duckdb", "spark")
# Local disk the DuckDB job needs per byte of pending gzip: the part files it adds to the
# event-date partitions (at SF 1 below the gzip size) and DuckDB's spill under
# DUCKDB_TEMP_DIRECTORY; 3 leaves room. Memory is no reason to leave DuckDB: it reads
# the batch in chunks (about 2 GiB at peak at SF 1). On a cluster the Glue or EMR job
# (``spark_job``) is scheduled directly, not chosen here.
DISK_PER_GZIP_BYTE = 3


def free_disk(folder: Path) -> int:
    """Free bytes on the disk that holds ``folder`` (or would, once created)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage("/").free


def choose_engine(settings: Settings, engine: str = "auto") -> str:
    """``engine`` as asked; ``auto``: DuckDB, or Spark when the batch would not fit the local disk."""
    if engine in ENGINES:
        return engine
    if engine != "auto":
        raise PlatformError(f"unknown engine {engine!r}: choose auto, {' or '.join(ENGINES)}")
    from processing.clickstream import duckdb_job

    needed = DISK_PER_GZIP_BYTE * sum(duckdb_job.pending(settings.lake_url).values())
    return "spark" if needed > free_disk(settings.duckdb_temp_directory) else "duckdb"


def run(settings: Settings, engine: str = "auto") -> dict:
    """Process every landing file not processed yet; returns the batch's counts."""
    chosen = choose_engine(settings, engine)
    if chosen == "spark":
        try:
            from processing.clickstream import spark_local
        except ModuleNotFoundError as exc:
            # The container image leaves pyspark out: its Spark engine is the Glue or EMR job.
            if not (exc.name or "").startswith("pyspark"):
                raise
            raise PlatformError(
                "the Spark engine needs pyspark, which this installation lacks: process with --engine duckdb "
                f"(it needs about {DISK_PER_GZIP_BYTE}x the pending gzip as free disk under DUCKDB_TEMP_DIRECTORY), "
                "or run the batch as the Glue or EMR job (docs/deploying-to-aws.md)"
            ) from exc
        return spark_local.run(settings)
    from processing.clickstream import duckdb_job

    return duckdb_job.run(settings.lake_url, settings=settings)
