"""The shop's operational database as a dlt source.

Every table is read with dlt's ``sql_table`` on its Arrow path and incrementally on
``updated_at``. DuckDB reads the database (``SHOP_EXTRACT_ENGINE=duckdb``, the default:
its sqlite/postgres scanner hands Arrow record batches to dlt, see ``duckdb_loader``);
``connectorx`` is the earlier engine, kept selectable. Either way a run reads only rows
whose ``updated_at`` is later than the last run's latest (an open range: dlt then keeps
no per-row hashes in its state, which for tables whose rows all share one timestamp
would grow with the table). Rows land append-only, one row per
version; staging in dbt keeps the latest version of each key.

Each batch is cast to the types the database declares, so every shop lands one raw
schema: money as ``decimal(15,2)`` even where SQLite stores it as REAL, and ``NOT NULL``
columns as non-nullable fields, as dlt's reflected schema already says. A column whose
type changes in the database fails the extraction (``SchemaDrift``); a new column loads.

After a bulk first load (``bulk.py``, ``marketplace ingest shop --bulk``) the source state
holds, per table, the ``updated_at`` watermark the snapshot was cut at; that table's
cursor starts there (``initial_value``), so the first incremental run reads only rows
changed after the snapshot. From then on dlt's own cursor state decides, as without one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import dlt
import pyarrow as pa
import sqlalchemy as sa
from dlt.common.exceptions import PipelineStateNotAvailable, SourceSectionNotAvailable
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.extract import DltResource
from dlt.sources.sql_database import sql_table

from ingestion.pipelines.shop.duckdb_loader import DuckDBTableLoader, SourceConnection
from ingestion.pipelines.shop.settings import CHUNK_SIZE, CURSOR_COLUMN, MONEY_COLUMNS, MONEY_TYPE, TABLES

# The source-state key under which a bulk load keeps each table's watermark (an ISO timestamp).
BULK_WATERMARKS = "bulk_watermarks"


class SchemaDrift(ValueError):
    """A shop column no longer has the type the lake holds it as."""


@dlt.source(name="shop", max_table_nesting=0)
def shop_database(
    credentials: str = dlt.secrets.value,
    tables: Sequence[str] = TABLES,
    chunk_size: int = CHUNK_SIZE,
    null_columns: Mapping[str, Sequence[str]] | None = None,
    engine: str = "duckdb",
) -> Iterator[DltResource]:
    """One incremental resource per shop table.

    Args:
        credentials: SQLAlchemy URL of the shop database (``sqlite:///...`` or ``postgresql://...``).
        tables: the tables to read; all eight TPC-H tables by default.
        chunk_size: rows per Arrow batch.
        engine: what reads the database: ``duckdb`` or ``connectorx`` (``SHOP_EXTRACT_ENGINE``).
        null_columns: per table, optional text columns the database lacks; they land as nulls
            so that every shop lands the same raw schema (``helpers.check_shop_database``).
    """
    null_columns = null_columns or {}
    engine_kwargs = _engine_kwargs(engine, credentials, len(tables))
    watermarks = bulk_watermarks()
    for table in tables:
        required: set[str] = set()
        resource = sql_table(
            credentials=credentials,
            table=table,
            **engine_kwargs,
            chunk_size=chunk_size,
            incremental=dlt.sources.incremental(CURSOR_COLUMN, range_start="open", initial_value=watermarks.get(table)),
            write_disposition="append",
            table_adapter_callback=_declare_money_and_nulls(required),
        )
        resource.add_map(_as_declared(required))
        resource.add_map(_same_types_as_landed(table))
        if null_columns.get(table):
            resource.add_map(_with_null_text_columns(tuple(null_columns[table])))
        yield resource


def bulk_watermarks() -> dict[str, datetime]:
    """Per table, the ``updated_at`` up to which a bulk load took its rows; empty without one.

    Read from the active pipeline's source state (read-only here); a table's incremental
    state, once it has one, overrides its ``initial_value``. Without a pipeline (the source
    built on its own) there is no state, and no watermark.
    """
    try:
        saved = dlt.current.source_state().get(BULK_WATERMARKS, {})
    except (PipelineStateNotAvailable, SourceSectionNotAvailable):
        return {}
    # naive UTC, as dlt keeps the cursor of the shop's naive ``updated_at``
    return {table: datetime.fromisoformat(value) for table, value in saved.items()}


def _engine_kwargs(engine: str, credentials: str, tables: int) -> dict:
    """``sql_table`` arguments that pick the engine reading the database."""
    if engine == "duckdb":
        connection = SourceConnection(credentials, readers=tables)
        return {
            "backend": "pyarrow",
            "table_loader_class": DuckDBTableLoader,
            "backend_kwargs": {"connection": connection},
        }
    return {"backend": "connectorx", "backend_kwargs": {"return_type": "arrow_stream"}}


def _declare_money_and_nulls(required: set[str]):
    """Tell dlt the money columns are decimals; note which columns the database keeps NOT NULL."""

    def adapt(table: sa.Table) -> None:
        for column in table.columns:
            if column.name in MONEY_COLUMNS and not isinstance(column.type, sa.Numeric):
                column.type = sa.Numeric(*MONEY_TYPE)
            if column.nullable is False:
                required.add(column.name)

    return adapt


def _as_declared(required: set[str]):
    """Cast float money to ``decimal(15,2)`` (rounded to the cent) and mark NOT NULL fields."""
    money = pa.decimal128(*MONEY_TYPE)

    def cast(batch: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
        fields = [
            pa.field(
                f.name,
                money if f.name in MONEY_COLUMNS and pa.types.is_floating(f.type) else f.type,
                nullable=f.name not in required,
            )
            for f in batch.schema
        ]
        target = pa.schema(fields, metadata=batch.schema.metadata)
        return batch if target == batch.schema else batch.cast(target)

    return cast


def _same_types_as_landed(table: str):
    """Fail the extraction when a column's type differs from the type the lake holds it as.

    Else the lake would keep the column with one type per load, and staging would read
    them as one (``union_by_name``), or fail only in dbt. A new column, and a column
    whose NOT NULL is dropped (an optional one the database no longer has), still load.
    """

    def check(batch: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
        landed = dlt.current.source_schema().tables.get(table, {}).get("columns", {})
        for name, column in py_arrow_to_table_schema_columns(batch.schema).items():
            was = landed.get(name, {}).get("data_type")
            if was and column.get("data_type") != was:
                raise SchemaDrift(
                    f"table {table} column {name} changed its type: the lake holds it as {was}, the database"
                    f" now gives {column.get('data_type')}; nothing of this run was loaded"
                )
        return batch

    return check


def _with_null_text_columns(names: tuple[str, ...]):
    def add(batch: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
        arrays = [*batch.columns, *(pa.nulls(batch.num_rows, pa.string()) for _ in names)]
        schema_names = [*batch.schema.names, *names]
        if isinstance(batch, pa.RecordBatch):
            return pa.RecordBatch.from_arrays(arrays, names=schema_names)
        return pa.Table.from_arrays(arrays, names=schema_names)

    return add
