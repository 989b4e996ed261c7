"""Run the ``shop`` pipeline: shop database → lake raw zone (Parquet)."""

from __future__ import annotations

import logging
import os
import time

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.errors import PlatformError
from ingestion.pipelines import lake
from ingestion.pipelines.shop import shop_database
from ingestion.pipelines.shop.helpers import check_lake_writable, check_shop_database, connection_url
from ingestion.pipelines.shop.settings import DATASET_NAME, PIPELINE_NAME
from ingestion.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, progress: str = "log") -> dict:
    """Load new and changed shop rows into ``$LAKE_URL/raw/shop/<table>/``."""
    check_shop_database(settings)
    check_lake_writable(settings)
    # dbt staging reads only committed loads, so every row must carry its load id.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=lake.raw_destination(settings),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(settings.pipelines_dir),
        progress=progress,
    )
    started = time.monotonic()
    try:
        info = pipeline.run(
            shop_database(credentials=connection_url(settings.shop_db_url)),
            loader_file_format="parquet",
        )
    except PipelineStepFailed as exc:
        raise PlatformError(f"shop pipeline failed at step {exc.step}: {lake.root_cause(exc)}") from exc
    info.raise_on_failed_jobs()
    seconds = time.monotonic() - started
    rows = lake.loaded_rows(pipeline)
    total = sum(rows.values())
    log.info("shop: %s rows in %.1fs (%s rows/s)", f"{total:,}", seconds, f"{total / max(seconds, 1e-9):,.0f}")
    return {"rows": rows, "seconds": seconds, "load_ids": list(info.loads_ids)}
