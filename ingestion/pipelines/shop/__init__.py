"""The shop's operational database as a dlt source.

Every table is read with dlt's ``sql_database`` on its Arrow path (connectorx streams
Arrow batches straight from SQLite or Postgres) and incrementally on ``updated_at``:
a run reads only rows inserted or changed since the last one. Rows land append-only,
one row per version; staging in dbt keeps the latest version of each key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import dlt
import pyarrow as pa
from dlt.extract import DltResource
from dlt.sources.sql_database import sql_table

from ingestion.pipelines.shop.settings import CHUNK_SIZE, CURSOR_COLUMN, TABLES


@dlt.source(name="shop", max_table_nesting=0)
def shop_database(
    credentials: str = dlt.secrets.value,
    tables: Sequence[str] = TABLES,
    chunk_size: int = CHUNK_SIZE,
    null_columns: Mapping[str, Sequence[str]] | None = None,
) -> Iterator[DltResource]:
    """One incremental resource per shop table.

    Args:
        credentials: SQLAlchemy URL of the shop database (``sqlite:///...`` or ``postgresql://...``).
        tables: the tables to read; all eight TPC-H tables by default.
        chunk_size: rows per Arrow batch.
        null_columns: per table, optional text columns the database lacks; they land as nulls
            so that every shop lands the same raw schema (``helpers.check_shop_database``).
    """
    null_columns = null_columns or {}
    for table in tables:
        resource = sql_table(
            credentials=credentials,
            table=table,
            backend="connectorx",
            backend_kwargs={"return_type": "arrow_stream"},
            chunk_size=chunk_size,
            incremental=dlt.sources.incremental(CURSOR_COLUMN),
            write_disposition="append",
        )
        if null_columns.get(table):
            resource.add_map(_with_null_text_columns(tuple(null_columns[table])))
        yield resource


def _with_null_text_columns(names: tuple[str, ...]):
    def add(batch: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
        arrays = [*batch.columns, *(pa.nulls(batch.num_rows, pa.string()) for _ in names)]
        schema_names = [*batch.schema.names, *names]
        if isinstance(batch, pa.RecordBatch):
            return pa.RecordBatch.from_arrays(arrays, names=schema_names)
        return pa.Table.from_arrays(arrays, names=schema_names)

    return add
