"""Load the clickstream job's output into a warehouse: processed zone → ``processed_clickstream``.

DuckDB and Spark read the processed Parquet where the job wrote it. The warehouse-first
targets (``pg``, ``redshift``; ``athena`` through Glue) get it the way they get the raw
schemas: dlt loads it into ``processed_clickstream.events`` and ``.audit``, the schema
the dbt source names.

Every processed file written since the last load is read again. The DuckDB job adds a
part file to a partition when late events arrive, but the Spark job rewrites the whole
``event_date`` partition, so rows are merged on their key (``event_id``; ``source_file``
for the audit): a rewritten partition replaces its rows instead of doubling them, and a
load that crashed is simply redone by the next run, because dlt advances its file cursor
only when the load commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import date

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.sources.filesystem import FileItemDict, filesystem

from ingestion.errors import PlatformError
from ingestion.pipelines import destinations, lake
from ingestion.settings import Settings

PIPELINE_NAME = "clickstream_processed"
SOURCE_NAME = "clickstream"
ZONE = "processed"
BATCH_ROWS = 250_000

log = logging.getLogger(__name__)


def needed(settings: Settings) -> bool:
    """True when the target reads a warehouse schema rather than the lake's processed zone."""
    return destinations.kind(settings) == "warehouse"


def _partition_date(file_item: FileItemDict) -> date:
    """``event_date=1998-01-02/part-0.parquet`` → 1998-01-02: hive keeps it in the path only."""
    folder = file_item["relative_path"].split("/")[0]
    key, _, value = folder.partition("=")
    if key != "event_date":
        raise PlatformError(f"clickstream: {file_item['file_url']} is not under an event_date=YYYY-MM-DD folder")
    return date.fromisoformat(value)


def _required(table: pa.Table, column: str) -> pa.Table:
    """``column`` declared NOT NULL, as dlt declares a primary key (the job never writes a null)."""
    index = table.schema.get_field_index(column)
    return table.cast(table.schema.set(index, table.schema.field(index).with_nullable(False)))


def _batches(file_item: FileItemDict) -> Iterator[pa.Table]:
    """A Parquet file in record batches, so a day of a large SF never sits in memory whole."""
    with file_item.open() as handle:
        for batch in pq.ParquetFile(handle).iter_batches(batch_size=BATCH_ROWS):
            yield pa.Table.from_batches([batch])


@dlt.transformer(name="events", write_disposition="merge", primary_key="event_id")
def events(files: list[FileItemDict]) -> Iterator[pa.Table]:
    for file_item in files:
        day = _partition_date(file_item)
        for table in _batches(file_item):
            column = pa.array([day] * table.num_rows, type=pa.date32())
            yield _required(table.append_column("event_date", column), "event_id")


@dlt.transformer(name="audit", write_disposition="merge", primary_key="source_file")
def audit(files: list[FileItemDict]) -> Iterator[pa.Table]:
    for file_item in files:
        for table in _batches(file_item):
            yield _required(table, "source_file")


@dlt.source(name=SOURCE_NAME)
def processed_clickstream(settings: Settings):
    """The job's events (one file set per ``event_date``) and its audit (one file per batch)."""
    tables = (("clickstream", "event_date=*/*.parquet", events), ("clickstream_audit", "*/*.parquet", audit))
    for folder, glob, reader in tables:
        listing = filesystem(bucket_url=settings.zone_url(ZONE, folder), file_glob=glob)
        listing.apply_hints(incremental=dlt.sources.incremental("modification_date"))
        yield (listing | reader).with_name(reader.name)


def run(settings: Settings, progress: str = "log") -> dict:
    """Load processed files changed since the last load; nothing to do for lake targets."""
    if not needed(settings):
        return {"rows": {}, "destination": settings.zone_url(ZONE, SOURCE_NAME)}
    to = destinations.for_pipeline(SOURCE_NAME, settings, zone=ZONE)
    pipeline = dlt.pipeline(
        **to.pipeline_kwargs(PIPELINE_NAME), pipelines_dir=str(settings.pipelines_dir), progress=progress
    )
    source = processed_clickstream(settings)
    if to.name == "athena":
        # Athena merges only into Iceberg tables; Hive tables would be appended to.
        for resource in source.resources.values():
            resource.apply_hints(table_format="iceberg")
    started = time.monotonic()
    try:
        info = pipeline.run(source, loader_file_format=destinations.file_format(pipeline))
    except PipelineStepFailed as exc:
        raise PlatformError(f"{PIPELINE_NAME} pipeline failed at step {exc.step}: {lake.root_cause(exc)}") from exc
    info.raise_on_failed_jobs()
    rows = lake.loaded_rows(pipeline)
    seconds = time.monotonic() - started
    log.info("clickstream: %s processed rows loaded in %.1fs", f"{sum(rows.values()):,}", seconds)
    return {"rows": rows, "seconds": seconds, "destination": destinations.described(pipeline, settings)}
