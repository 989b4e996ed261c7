"""Clickstream processing: landing JSON lines → processed Parquet by event date.

Two engines write the same rows: ``spark_job`` (Glue 5 / EMR, or Spark local mode) and
``duckdb_job`` (one process, for inputs up to a few GB). ``run`` picks one by the size
of the pending input unless told which.
"""

from __future__ import annotations

from ingestion.errors import PlatformError
from ingestion.settings import Settings

ENGINES = ("duckdb", "spark")
# Pending gzip bytes above which the batch goes to Spark. On 2 cores DuckDB was faster at
# every size measured (benchmarks/clickstream.py); the limit is its memory: it holds the
# batch in RAM, about 8 GB at peak for SF 1's whole history (217 MB of gzip).
SPARK_THRESHOLD_BYTES = 512 * 1024**2


def choose_engine(lake_url: str, engine: str = "auto") -> str:
    if engine in ENGINES:
        return engine
    if engine != "auto":
        raise PlatformError(f"unknown engine {engine!r}: choose auto, {' or '.join(ENGINES)}")
    from processing.clickstream import duckdb_job

    size = sum(duckdb_job.pending(lake_url).values())
    return "spark" if size > SPARK_THRESHOLD_BYTES else "duckdb"


def run(settings: Settings, engine: str = "auto") -> dict:
    """Process every landing file not processed yet; returns the batch's counts."""
    chosen = choose_engine(settings.lake_url, engine)
    if chosen == "spark":
        try:
            from processing.clickstream import spark_local
        except ModuleNotFoundError as exc:
            # The container image leaves pyspark out: its Spark engine is the Glue or EMR job.
            if not (exc.name or "").startswith("pyspark"):
                raise
            raise PlatformError(
                f"the Spark engine needs pyspark, which this installation lacks: process with --engine duckdb "
                f"(batches up to {SPARK_THRESHOLD_BYTES // 1024**2} MB of gzip), or run the batch as the Glue "
                "or EMR job (docs/deploying-to-aws.md)"
            ) from exc
        return spark_local.run(settings)
    from processing.clickstream import duckdb_job

    return duckdb_job.run(settings.lake_url)
