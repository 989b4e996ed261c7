"""Run the ``shop`` pipeline: shop database → lake raw zone (Parquet)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.errors import PlatformError
from ingestion.pipelines import destinations, lake, recovery
from ingestion.pipelines.shop import BULK_WATERMARKS, SchemaDrift, shop_database
from ingestion.pipelines.shop.helpers import (
    check_lake_writable,
    check_shop_database,
    check_sqlite_file,
    connection_url,
    first_line,
    is_driver_panic,
    parse_shop_url,
    redacted,
)
from ingestion.pipelines.shop.settings import PIPELINE_NAME, TABLES
from ingestion.settings import Settings

log = logging.getLogger(__name__)


def make_pipeline(settings: Settings, progress: str | None = "log") -> dlt.Pipeline:
    """The pipeline; ``progress`` is a dlt collector name ("log", "tqdm") or None for silence."""
    lake.require_load_ids()
    return dlt.pipeline(
        **destinations.for_pipeline(PIPELINE_NAME, settings).pipeline_kwargs(PIPELINE_NAME),
        pipelines_dir=str(settings.pipelines_dir),
        **({"progress": progress} if progress else {}),
    )


def make_source(settings: Settings, null_columns: dict[str, tuple[str, ...]] | None = None):
    return shop_database(
        credentials=connection_url(settings.shop_db_url),
        null_columns=null_columns,
        engine=settings.shop_extract_engine,
    )


def run(settings: Settings, progress: str | None = "log") -> dict:
    """Load new and changed shop rows into ``$LAKE_URL/raw/shop/<table>/``.

    A package left behind by a crashed run is loaded first (dlt finishes pending
    packages before extracting), so a re-run fills the gap without duplicating rows.
    """
    # The header checks only: whether to read every page as well depends on the state below.
    null_columns = check_shop_database(settings, every_page=False)
    if null_columns:
        log.info("shop: the database lacks optional columns %s; they land as nulls", null_columns)
    if destinations.for_pipeline(PIPELINE_NAME, settings).is_lake:
        check_lake_writable(settings)  # before dlt creates its working folder
    pipeline = make_pipeline(settings, progress)
    started = time.monotonic()
    info = extract_and_load(settings, pipeline, null_columns)
    seconds = time.monotonic() - started
    rows = lake.loaded_rows(pipeline)
    total = sum(rows.values())
    log.info("shop: %s rows in %.1fs (%s rows/s)", f"{total:,}", seconds, f"{total / max(seconds, 1e-9):,.0f}")
    where = destinations.described(pipeline, settings)
    return {"rows": rows, "seconds": seconds, "load_ids": list(info.loads_ids), "destination": where}


def extract_and_load(settings: Settings, pipeline: dlt.Pipeline, null_columns: dict[str, tuple[str, ...]]):
    """Finish an interrupted run's package, then load what changed; failures as one line.

    A source that breaks during extraction (damaged after the up-front check passed)
    leaves nothing behind: the load package is committed only after every table was read.
    """
    # dlt's run() would load a killed run's pending package and skip new data: load it
    # first (and drop the copy a kill in the middle of normalize's commit leaves behind).
    recovery.finish_interrupted(pipeline)
    try:
        if pipeline.first_run:
            # A working folder made afresh (a new worker) restores dlt's state from the
            # destination before the source reads it: after a bulk load (bulk.py) each
            # cursor starts at the snapshot's watermark, which only that state holds.
            pipeline.sync_destination()
        _check_pages_unless_every_row_is_read(settings, pipeline)
        info = pipeline.run(make_source(settings, null_columns), loader_file_format=destinations.file_format(pipeline))
    except PipelineStepFailed as exc:
        if exc.step == "extract":
            name_a_damaged_source(settings)
        if isinstance(drift := lake.root_exception(exc), SchemaDrift):
            raise PlatformError(f"shop source {redacted(connection_url(settings.shop_db_url))}: {drift}") from exc
        raise lake.step_failed(exc) from exc
    except BaseException as exc:
        if not is_driver_panic(exc):
            raise
        name_a_damaged_source(settings)
        raise PlatformError(
            f"shop pipeline failed at step extract: the database driver stopped ({first_line(exc)});"
            " nothing of this run was loaded"
        ) from exc
    info.raise_on_failed_jobs()
    return info


def source_state(state: Mapping) -> dict:
    """The shop source's part of a pipeline state."""
    return state.get("sources", {}).get(PIPELINE_NAME, {})


def has_cursors(state: Mapping) -> bool:
    """Whether any table has a cursor: it is read from where the last run stopped."""
    resources = source_state(state).get("resources", {})
    return any(resources.get(table, {}).get("incremental") for table in TABLES)


def reads_from_cursors(state: Mapping) -> bool:
    """Whether the next run starts from a cursor, the last run's or a bulk load's watermark,
    rather than reading every row (a first load)."""
    return has_cursors(state) or BULK_WATERMARKS in source_state(state)


def _check_pages_unless_every_row_is_read(settings: Settings, pipeline: dlt.Pipeline) -> None:
    """SQLite's page check (``check_sqlite_file``), unless this run is the first load.

    An incremental run reads only the changed rows, so damage elsewhere in the file would
    go unnoticed: the check reads every page first. A first load (no cursor, no bulk
    watermark) reads every row of every table, so the extraction itself meets any damaged
    page, and ``extract_and_load`` names it in the same one line; checking first would
    read the whole file twice (3-5 s at SF 1).
    """
    if not reads_from_cursors(pipeline.state):
        return
    scanner, target = parse_shop_url(connection_url(settings.shop_db_url))
    if scanner == "sqlite":
        check_sqlite_file(Path(target))


def name_a_damaged_source(settings: Settings) -> None:
    """After a failed extraction, say so in one line if the cause is a damaged SQLite file."""
    scanner, target = parse_shop_url(connection_url(settings.shop_db_url))
    if scanner == "sqlite":
        check_sqlite_file(Path(target), every_page=True)  # a failed run pays for the full check
