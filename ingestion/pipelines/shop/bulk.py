"""The shop's first load as a snapshot: DuckDB copies each table to Parquet, dlt loads the files.

Teams start a large operational database in the lake from a snapshot (an RDS snapshot
export to S3, a DMS full load) and run the incremental pipeline for the daily changes.
``marketplace ingest shop --bulk`` is that first step, kept inside dlt: the same pipeline
as ``marketplace ingest shop`` (name, destination, dataset, state, schema), one run with
one resource per table, so the load is committed by its ``_dlt_loads`` row like any other
and staging reads it the same way.

Before anything is copied, each table's watermark W = max(``updated_at``) is read (the
database answers it from the cursor's index). Each resource then has DuckDB ``COPY`` the
rows with ``updated_at <= W``, typed as the incremental path lands them and with the load
package's id as ``_dlt_load_id``, to Parquet files in ``<pipeline working folder>/bulk/
<table>/``, and yields them with ``dlt.mark.with_file_import``. dlt 1.31 hard-links an
imported file into the package (it copies only where a link is impossible, across file
systems), the normalizer links it again, as its schema already is the table's, and the
load step copies it to the lake: the data is written once locally and once to the lake.
W goes into the source state in the same package (``BULK_WATERMARKS``), and each table's
incremental cursor starts there, so the next ``marketplace ingest shop`` reads only later
changes. Rows changed while the copy runs have ``updated_at > W``: that run loads them.

DuckDB starts a new file once one passes ``FILE_SIZE`` (256 MB; checked per row group, so
a file ends a little past it). SF 0.01 lands 3.4 MB of Parquet, one file per table; SF 100
would land about 34 GB, some 130 files, 80 of them lineitem's. Big enough that DuckDB,
Athena and Spark open few files per table, small enough that the load step uploads many
in parallel and a failed upload is retried cheaply. Row groups hold ``CHUNK_SIZE`` rows, as
the incremental path writes them.

One difference from the incremental path's files stays: DuckDB writes every Parquet
column as optional (it cannot write ``REQUIRED``), so the bulk resources declare their
columns nullable. Declared ``NOT NULL``, dlt's normalizer would rewrite every file to
match, and the bulk path would cost what the incremental one does. Readers (DuckDB,
Athena, Spark) see the same column names, order and types either way.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.common.schema.utils import dlt_load_id_column
from dlt.extract import DltResource
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.pipelines import destinations, lake, recovery
from ingestion.pipelines.shop import BULK_WATERMARKS
from ingestion.pipelines.shop.duckdb_loader import (
    SOURCE_ALIAS,
    SourceConnection,
    connect_source,
    quoted,
    select_expression,
)
from ingestion.pipelines.shop.helpers import (
    check_lake_writable,
    check_shop_database,
    connection_url,
    parse_shop_url,
)
from ingestion.pipelines.shop.pipeline import (
    has_cursors,
    make_pipeline,
    name_a_damaged_source,
    reads_from_cursors,
    source_state,
)
from ingestion.pipelines.shop.settings import CHUNK_SIZE, CURSOR_COLUMN, DATASET_NAME, PIPELINE_NAME, TABLES
from ingestion.settings import Settings

log = logging.getLogger(__name__)

SCRATCH = "bulk"  # under the pipeline's working folder
FILE_SIZE = "256MB"
LOAD_ID = "_dlt_load_id"


@dataclasses.dataclass(frozen=True)
class TableCopy:
    """What one table's resource copies: the rows up to its watermark, as the lake stores them."""

    table: str
    expressions: str  # the SELECT list, the load id left out
    rows: str  # FROM ... WHERE ...
    columns: dict  # dlt's column hints, the load id's included
    watermark: datetime | None

    def select(self, load_id: str) -> str:
        return f"select {self.expressions}, '{duck.literal(load_id)}' as {LOAD_ID} from {self.rows}"


def run(settings: Settings, progress: str | None = "log") -> dict:
    """Load every shop table into an empty raw zone in one dlt run; the summary ``pipeline.run`` returns.

    A bulk run killed after its extraction is finished here (its package loaded); one
    killed during the copy left no package, and is done again from a clean scratch folder.
    """
    if not destinations.for_pipeline(PIPELINE_NAME, settings).is_lake:
        raise PlatformError(
            f"`marketplace ingest shop --bulk` loads the lake only, and DBT_TARGET={settings.dbt_target} loads the shop"
            f" into the warehouse schema raw_{DATASET_NAME}: run `marketplace ingest shop` instead"
        )
    # The header checks only: the copy reads every row of every table, so it meets any
    # damaged page itself, and that failure is named as the page check would name it.
    null_columns = check_shop_database(settings, every_page=False)
    check_lake_writable(settings)
    pipeline = make_pipeline(settings, progress)
    started = time.monotonic()
    finished = recovery.finish_interrupted(pipeline)
    scratch = _clean_scratch(pipeline)
    if finished and _bulk_only(pipeline.state):
        log.info("shop: the interrupted bulk load is loaded now; nothing else to do")
        return _summary(pipeline, settings, pipeline.last_trace.last_load_info.loads_ids, started)
    try:
        pipeline.sync_destination()  # a working folder made afresh learns what the lake holds
    except PipelineStepFailed as exc:
        raise lake.step_failed(exc) from exc
    _require_empty(pipeline, settings)
    url = connection_url(settings.shop_db_url)
    copies = plan_copies(url, TABLES, null_columns)
    try:
        info = pipeline.run(shop_snapshot(url, copies, str(scratch)), loader_file_format="parquet")
    except PipelineStepFailed as exc:
        if exc.step == "extract":
            name_a_damaged_source(settings)
        raise lake.step_failed(exc) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the package holds its own links to the files
    info.raise_on_failed_jobs()
    return _summary(pipeline, settings, info.loads_ids, started)


@dlt.source(name=PIPELINE_NAME, max_table_nesting=0)
def shop_snapshot(credentials: str, copies: Sequence[TableCopy], scratch: str) -> Iterator[DltResource]:
    """One resource per table, named as the incremental ones, each importing the files DuckDB wrote."""
    connection = SourceConnection(credentials, readers=len(copies))
    for copy in copies:
        yield dlt.resource(
            _copied_files(copy, connection, Path(scratch) / copy.table),
            name=copy.table,
            write_disposition="append",
            columns=copy.columns,
        )


def _copied_files(copy: TableCopy, connection: SourceConnection, folder: Path) -> Iterator:
    load_id = dlt.current.load_package_state()["load_id"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    con = connection.cursor()
    started = time.monotonic()
    try:
        with duck.out_of_memory():
            con.execute(
                f"copy ({copy.select(load_id)}) to '{duck.literal(str(folder))}'"
                f" (format parquet, compression snappy, row_group_size {CHUNK_SIZE},"
                f" file_size_bytes '{FILE_SIZE}', filename_pattern 'part_{{i}}')"
            )
    finally:
        con.close()
        connection.done()
    files = sorted(folder.glob("*.parquet"))
    rows = {path: pq.read_metadata(path).num_rows for path in files}
    log.info(
        "shop: copied %s rows of %s into %d file(s) in %.1fs",
        f"{sum(rows.values()):,}",
        copy.table,
        len(files),
        time.monotonic() - started,
    )
    if copy.watermark is not None:
        dlt.current.source_state().setdefault(BULK_WATERMARKS, {})[copy.table] = copy.watermark.isoformat()
    for path in files:
        yield dlt.mark.with_file_import(str(path), "parquet", rows[path])


def plan_copies(
    url: str, tables: Sequence[str], null_columns: Mapping[str, Sequence[str]] | None = None
) -> list[TableCopy]:
    """Each table's SELECT, columns and watermark, all watermarks read before any table is copied."""
    null_columns = null_columns or {}
    scanner, _ = parse_shop_url(url)
    schema = "main" if scanner == "sqlite" else "public"
    con = connect_source(url)
    try:
        return [_plan(con, scanner, schema, table, tuple(null_columns.get(table, ()))) for table in tables]
    finally:
        con.close()


def _plan(con: duckdb.DuckDBPyConnection, scanner: str, schema: str, table: str, nulls: tuple[str, ...]) -> TableCopy:
    source = f"{SOURCE_ALIAS}.{quoted(schema)}.{quoted(table)}"
    described = con.execute(f"describe {source}").fetchall()
    keys = {name for name, _, _, key, *_ in described if key == "PRI"}
    watermark = _watermark(con, scanner, schema, table)
    expressions = ", ".join(
        [
            *(select_expression(name, None) for name, *_ in described),
            *(f"cast(null as varchar) as {quoted(name)}" for name in nulls),
        ]
    )
    cut = f"timestamp '{watermark.isoformat(sep=' ')}'" if watermark else "null"  # an empty table: no rows
    rows = f"{source} where {quoted(CURSOR_COLUMN)} <= {cut}"
    copy = TableCopy(table, expressions, rows, {}, watermark)
    arrow = con.execute(f"{copy.select('')} limit 0").to_arrow_table().schema
    return dataclasses.replace(copy, columns=_columns(arrow, keys))


def _watermark(con: duckdb.DuckDBPyConnection, scanner: str, schema: str, table: str) -> datetime | None:
    """max(updated_at), computed by the database itself on the cursor's index, not by a scan.

    SQLite keeps timestamps as text, so its max is the greatest text: a value the column
    holds, never later than the latest one. A lower cut only moves rows to the next run.
    """
    inner = f"select max({quoted(CURSOR_COLUMN)}) from {quoted(schema)}.{quoted(table)}"
    query = f"{scanner}_query('{SOURCE_ALIAS}', '{duck.literal(inner)}')"
    (value,) = con.execute(f"select cast(max(columns(*)) as timestamp) from {query}").fetchone()
    return value


def _columns(schema: pa.Schema, keys: set[str]) -> dict:
    """dlt's column hints for the files: their types, every column nullable (see the module doc)."""
    columns = {}
    for name, column in py_arrow_to_table_schema_columns(schema).items():
        if name == LOAD_ID:
            column = dlt_load_id_column()
        if column.get("data_type") == "timestamp" and column.get("precision") == 6:
            column.pop("precision")  # microseconds: dlt's default, as the incremental schema leaves it
        if name in keys:
            column["primary_key"] = True
        if name == CURSOR_COLUMN:
            column["incremental"] = True  # as dlt marks the cursor of the incremental resources
        columns[name] = {**column, "nullable": True}
    return columns


def _require_empty(pipeline: dlt.Pipeline, settings: Settings) -> None:
    """Refuse, in one line, a raw zone that already holds shop loads or a state that has cursors."""
    where = destinations.described(pipeline, settings)
    if _committed_loads(pipeline) or reads_from_cursors(pipeline.state):
        raise PlatformError(
            f"`marketplace ingest shop --bulk` is for the first load into an empty raw zone, and {where} already"
            " holds shop loads: run `marketplace ingest shop` instead, it loads what changed since"
        )


def _bulk_only(state: Mapping) -> bool:
    """Whether the state is a bulk load's and nothing after it: its package was the one just finished."""
    return BULK_WATERMARKS in source_state(state) and not has_cursors(state)


def _committed_loads(pipeline: dlt.Pipeline) -> bool:
    """Whether the lake's ``_dlt_loads`` of the shop has a committed load (status 0)."""
    with pipeline.destination_client() as client:
        try:
            files = client.list_table_files(client.schema.loads_table_name)
        except (DestinationUndefinedEntity, FileNotFoundError):
            return False
        for path in files:
            for line in client.fs_client.read_text(path).splitlines():
                if line.strip() and json.loads(line).get("status") == 0:
                    return True
    return False


def _clean_scratch(pipeline: dlt.Pipeline) -> Path:
    """Remove the scratch folder and what a bulk run killed during its extraction left; the folder's path.

    Such a run left its copies in the scratch folder and links to them in the extraction
    folder dlt made for it (``normalize/<random id>/``), which no later run reads or
    removes: at 100 GB they would hold the killed run's data on disk for good.
    """
    working = Path(pipeline.working_dir)
    scratch = working / SCRATCH
    for leftover in (p for p in (working / "normalize").glob("*") if p.is_dir() and p.name != "extracted"):
        log.warning("shop: removing %s, the extraction of a killed run", leftover)
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return scratch


def _summary(pipeline: dlt.Pipeline, settings: Settings, load_ids: Sequence[str], started: float) -> dict:
    seconds = time.monotonic() - started
    rows = lake.loaded_rows(pipeline) or _package_rows(pipeline, load_ids)
    total = sum(rows.values())
    log.info("shop: %s rows in %.1fs (%s rows/s)", f"{total:,}", seconds, f"{total / max(seconds, 1e-9):,.0f}")
    where = destinations.described(pipeline, settings)
    return {"rows": rows, "seconds": seconds, "load_ids": list(load_ids), "destination": where}


def _package_rows(pipeline: dlt.Pipeline, load_ids: Sequence[str]) -> dict[str, int]:
    """Rows per table of loaded packages, from their Parquet footers (a package normalized before a kill)."""
    rows: dict[str, int] = {}
    for load_id in load_ids:
        for job in pipeline.get_load_package_info(load_id).jobs["completed_jobs"]:
            table = job.job_file_info.table_name
            if not table.startswith("_dlt") and job.file_path.endswith(".parquet"):
                rows[table] = rows.get(table, 0) + pq.read_metadata(job.file_path).num_rows
    return rows
