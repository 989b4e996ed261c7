"""DuckDB as dlt's extract engine for the shop: its ``sqlite_scanner``/``postgres_scanner``
read the table and hand Arrow record batches to the dlt resource.

dlt's ``sql_table`` still reflects the table, keeps the incremental cursor and builds the
load package; only the reading is DuckDB's (``table_loader_class``). The cursor filter
is pushed down as a ``WHERE`` on the scan with the bounds dlt's own loaders use (``>``
the last value for ``range_start="open"``), and money columns are cast to
``decimal(15,2)`` in the scan, so the batches arrive as the lake stores them.
"""

from __future__ import annotations

import contextlib
import operator
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa
from dlt.sources.sql_database.helpers import BaseTableLoader

from ingestion import duck
from ingestion.pipelines.shop.helpers import parse_shop_url
from ingestion.pipelines.shop.settings import MONEY_COLUMNS, MONEY_TYPE

SOURCE_ALIAS = "shop_source"
# The operators dlt's loaders put in the WHERE clause, as SQL.
_SQL_OPERATORS = {operator.gt: ">", operator.ge: ">=", operator.lt: "<", operator.le: "<="}


class SourceConnection:
    """One DuckDB connection to the shop database, opened by the first table read and shared.

    The extension is loaded and the database attached once per run, not once per table;
    each table reads on its own cursor. Opening lazily keeps a database that cannot be
    attached inside dlt's extract step, where the pipeline names a damaged source.
    """

    def __init__(self, url: str, readers: int = 1) -> None:
        self.url = url
        self.readers = readers
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = connect_source(self.url)
        return self._con.cursor()

    def done(self) -> None:
        """One reader finished; the last one closes the connection (and the database file)."""
        self.readers -= 1
        if self.readers <= 0 and self._con is not None:
            self._con.close()
            self._con = None


class DuckDBTableLoader(BaseTableLoader):
    """Reads one shop table through DuckDB and yields Arrow record batches of ``chunk_size`` rows.

    ``backend_kwargs["connection"]`` (a ``SourceConnection``) shares one connection
    between the tables; without it the loader opens and closes its own.
    """

    def load_rows(self, backend_kwargs: dict[str, Any] | None = None) -> Iterator[pa.RecordBatch]:
        source = (backend_kwargs or {}).get("connection") or SourceConnection(self.get_connection_url())
        con = source.cursor()
        try:
            reader = con.execute(self.scan_query(con)).to_arrow_reader(self.chunk_size)
            empty = True
            for batch in read_ahead(reader):
                empty = False
                yield batch
            if empty:  # an empty batch still lands the table's schema, as dlt's own loaders do
                yield pa.RecordBatch.from_pylist([], schema=reader.schema)
        finally:
            con.close()
            source.done()

    def scan_query(self, con: duckdb.DuckDBPyConnection) -> str:
        """The SELECT on the attached table, the cursor bounds in its WHERE.

        The bounds are literals, not parameters, so that DuckDB pushes them into the
        scan: the Postgres scanner then sends them to the server.

        DuckDB's SQLite scanner reads whole tables (it pushes no filter down), so on an
        incremental run SQLite itself first narrows the rows with the index on the cursor
        (``sqlite_query``), comparing the text with the last value cut to the second
        (``YYYY-MM-DD HH:MM:SS``); the exact bounds then apply in DuckDB. The cut keeps
        the narrowing a superset however the file writes fractions or the ``T``. With the
        open range the shop reads (``>``) the text must be after the cut, not at it: a
        row later than the last value is either in a later second or in the same second
        with a fraction, and both sort after it. So rows that share the last value's
        second (every part and offer of the simulated shop, stamped once) are not handed
        to DuckDB on every run only to be dropped there.
        """
        scanner, _ = parse_shop_url(self.get_connection_url())
        schema = self.table.schema or ("main" if scanner == "sqlite" else "public")
        table = f"{SOURCE_ALIAS}.{quoted(schema)}.{quoted(self.table.name)}"
        where = self._cursor_filter()
        names = [column.name for column in self.table.columns]
        since = _text_of(self.last_value) if scanner == "sqlite" and self._narrows_from_last_value() else None
        if since is None:
            source, types = table, dict.fromkeys(names)
        else:
            # sqlite_query returns text; each column is cast back to the type the scan gives.
            types = dict(con.execute(f"select column_name, column_type from (describe {table})").fetchall())
            after = ">" if self.range_start == "open" else ">="
            inner = (
                f"select {', '.join(map(quoted, names))} from {quoted(self.table.name)}"
                f" where {quoted(self.cursor_column.name)} {after} '{since}'"
            )
            source = f"sqlite_query('{SOURCE_ALIAS}', '{duck.literal(inner)}')"
        columns = ", ".join(select_expression(name, types[name]) for name in names)
        sql = f"select {columns} from {source}"
        return f"select * from ({sql}) where {where}" if where else sql

    def _narrows_from_last_value(self) -> bool:
        """Whether every row the cursor filter keeps has a cursor at or after the last value."""
        return (
            self.incremental is not None
            and self.incremental.last_value_func is max
            and self.last_value is not None
            and self.on_cursor_value_missing != "include"
        )

    def _cursor_filter(self) -> str:
        if not self.incremental or self.incremental.last_value_func not in (max, min):
            return ""
        by_max = self.incremental.last_value_func is max
        start = (
            (operator.ge if by_max else operator.le)
            if self.range_start == "closed"
            else (operator.gt if by_max else operator.lt)
        )
        end = (
            (operator.lt if by_max else operator.gt)
            if self.range_end == "open"
            else (operator.le if by_max else operator.ge)
        )
        cursor = quoted(self.cursor_column.name)
        clauses = []
        if self.last_value is not None:
            clause = f"{cursor} {_SQL_OPERATORS[start]} {_sql_value(self.last_value)}"
            if self.end_value is not None:
                clause = f"{clause} and {cursor} {_SQL_OPERATORS[end]} {_sql_value(self.end_value)}"
            if self.on_cursor_value_missing == "include":
                clause = f"({clause} or {cursor} is null)"
            clauses.append(clause)
        if self.on_cursor_value_missing == "exclude":
            clauses.append(f"{cursor} is not null")
        return " and ".join(clauses)


def connect_source(url: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the shop database attached read-only as ``shop_source``."""
    scanner, target = parse_shop_url(url)
    con = duck.connect(":memory:", f"{scanner}_scanner")
    try:
        con.execute(f"attach '{duck.literal(target)}' as {SOURCE_ALIAS} (type {scanner}, read_only)")
    except duckdb.Error:
        con.close()
        raise
    return con


def select_expression(column: str, scanned_type: str | None) -> str:
    """The column as the lake stores it: money as ``decimal(15,2)``, the rest as scanned."""
    name = quoted(column)
    if scanned_type is not None:
        name = f"cast({name} as {scanned_type})"
    if column in MONEY_COLUMNS:
        precision, scale = MONEY_TYPE
        return f"cast({name} as decimal({precision}, {scale})) as {quoted(column)}"
    return f"{name} as {quoted(column)}" if scanned_type is not None else name


def _text_of(value: Any) -> str | None:
    """A date or timestamp cursor value as SQLite text, to the second; None for other cursors."""
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return None


def read_ahead(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches, the next one read while the caller handles this one.

    dlt writes each batch to Parquet in the caller's thread while DuckDB would sit idle
    until asked for the next: reading one batch ahead in a thread of its own (both release
    the GIL) overlaps the two, at the cost of one batch more in memory. An error of the
    read is raised where the caller asks for the batch it could not read. The thread is
    done before this generator is, however the caller stops, so the cursor can be closed.
    """
    ahead: queue.Queue = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def read() -> None:
        try:
            for batch in reader:
                ahead.put((batch, None))
                if stopped.is_set():
                    return
            ahead.put((None, None))
        except BaseException as exc:  # handed to the caller, raised there
            ahead.put((None, exc))

    thread = threading.Thread(target=read, name="shop-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            batch, error = ahead.get()
            if error is not None:
                raise error
            if batch is None:
                return
            yield batch
    finally:
        stopped.set()
        while thread.is_alive():  # a reader blocked on a full queue takes this to stop
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.1)
        thread.join()


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_value(value: Any) -> str:
    """A cursor value (from dlt's state) as an SQL literal."""
    value = _naive_utc(value)
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, bool | int | float):
        return repr(value)
    return f"'{duck.literal(str(value))}'"


def _naive_utc(value: Any) -> Any:
    """dlt keeps cursor values UTC-aware; the shop's ``updated_at`` is a naive UTC timestamp."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
