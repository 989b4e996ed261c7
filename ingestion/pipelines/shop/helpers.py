"""Checks that turn the usual failures into one clear line before any data moves."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa

from ingestion.errors import PlatformError
from ingestion.pipelines.shop.settings import (
    CURSOR_COLUMN,
    OPTIONAL_COLUMNS,
    PAGE_CHECK_MAX_BYTES,
    REQUIRED_COLUMNS,
)
from ingestion.settings import Settings

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_BYTES = 100


def check_shop_database(settings: Settings, every_page: bool | None = None) -> dict[str, tuple[str, ...]]:
    """Fail early, in one line, if the shop database cannot be read or lacks a table or column.

    Checks what a production pipeline needs, nothing more: the database answers, and every
    table has the columns staging reads plus the ``updated_at`` cursor. Returns, per table,
    the optional columns it lacks (they land as nulls). ``every_page`` is passed on to
    ``check_sqlite_file`` for an SQLite file.
    """
    url = connection_url(settings.shop_db_url)
    where = redacted(url)
    scanner, target = parse_shop_url(url)
    if scanner == "sqlite":
        check_sqlite_file(Path(target), every_page)
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        present = {table: {c["name"].lower() for c in inspector.get_columns(table)} for table in _tables(inspector)}
    except sa.exc.SQLAlchemyError as exc:
        raise PlatformError(f"cannot read the shop database {where}: {first_line(exc)}") from exc
    finally:
        engine.dispose()
    missing_optional: dict[str, tuple[str, ...]] = {}
    for table, columns in REQUIRED_COLUMNS.items():
        if table not in present:
            raise PlatformError(f"shop source {where}: table {table} is missing")
        for column in (*columns, CURSOR_COLUMN):
            if column not in present[table]:
                raise PlatformError(f"shop source {where}: table {table} has no column {column}")
        lacking = tuple(c for c in OPTIONAL_COLUMNS.get(table, ()) if c not in present[table])
        if lacking:
            missing_optional[table] = lacking
    return missing_optional


def check_sqlite_file(path: Path, every_page: bool | None = None) -> None:
    """Fail in one line if ``path`` is missing, empty, not SQLite, cut short or damaged.

    Up to ``PAGE_CHECK_MAX_BYTES`` SQLite's ``quick_check`` reads every page, so a file
    damaged in the middle is named here, not in a driver panic part-way through the
    extraction (measured in docs/reliability.md: 0.05 s at SF 0.01, 3-5 s at SF 1). A larger
    file gets the header checks only, unless ``every_page`` says otherwise, and so does a
    first load (``every_page=False``); damage the extraction meets is then reported by
    ``pipeline.extract_and_load`` or ``bulk.run``.
    """
    if not path.exists():
        raise PlatformError(f"no shop database at {path}: set SHOP_DB_URL (or run `marketplace simulate init`)")
    size = path.stat().st_size
    if size == 0:
        raise damaged_sqlite(path, "it is empty, 0 bytes")
    with path.open("rb") as file:
        header = file.read(SQLITE_HEADER_BYTES)
    if not header.startswith(SQLITE_MAGIC):
        raise PlatformError(
            f"the shop database {path} is not an SQLite database: point SHOP_DB_URL at the shop's database file;"
            " nothing was loaded from it"
        )
    # A write-ahead log holds pages the main file does not have yet.
    if len(header) == SQLITE_HEADER_BYTES and not path.with_name(f"{path.name}-wal").exists():
        declared = _declared_size(header)
        if declared and size < declared:
            raise damaged_sqlite(path, f"cut short: {size:,} of its {declared:,} bytes")
    if every_page is None:
        every_page = size <= PAGE_CHECK_MAX_BYTES
    check = "pragma quick_check" if every_page else "select 'ok' from sqlite_master limit 1"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            problems = [row[0] for row in con.execute(check)] or ["ok"]
    except sqlite3.DatabaseError as exc:
        raise damaged_sqlite(path, str(exc)) from exc
    if problems != ["ok"]:
        first = next((line for line in problems[0].splitlines() if not line.startswith("***")), problems[0])
        raise damaged_sqlite(path, f"{len(problems)} problem(s), first: {first.strip()}")


def damaged_sqlite(path: Path, reason: str) -> PlatformError:
    """The one line for a shop database that cannot be trusted: what, why, what to do."""
    return PlatformError(
        f"the shop database {path} is damaged ({reason}): restore it from a backup or re-create it"
        " (`marketplace simulate init` for the sample shop); nothing was loaded from it"
    )


def _declared_size(header: bytes) -> int:
    """The file size SQLite's header declares, or 0 where the header does not vouch for it.

    Page size is at offset 16 (1 means 65536) and the page count at 28; the count is
    valid only while the change counter (24) equals the version-valid-for number (92).
    """
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] != header[92:96]:
        return 0
    return page_size * pages


def _tables(inspector) -> set[str]:
    return {name.lower() for name in inspector.get_table_names()}


def check_lake_writable(settings: Settings) -> None:
    """A local lake must accept files; remote ones are checked by the first write."""
    if not settings.lake_is_local:
        return
    raw = Path(settings.zone_url("raw").removeprefix("file://"))
    probe = raw / f".write-probe-{uuid.uuid4().hex}"
    try:
        raw.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PlatformError(f"the lake at {settings.lake_url} is not writable: {exc.strerror}") from exc


def connection_url(shop_db_url: str) -> str:
    """The shop URL as SQLAlchemy and connectorx both accept it."""
    if shop_db_url.startswith("postgres://"):
        return "postgresql://" + shop_db_url.removeprefix("postgres://")
    return shop_db_url


def parse_shop_url(url: str) -> tuple[str, str]:
    """(DuckDB scanner, ATTACH target) for ``sqlite:///path`` or ``postgresql://...``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        if not path.startswith("/"):
            path = str(Path(path).absolute())
        return "sqlite", path
    if parsed.scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return "postgres", url.replace("postgresql+psycopg2://", "postgresql://", 1)
    raise PlatformError(f"SHOP_DB_URL={redacted(url)!r}: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB")


def redacted(url: str) -> str:
    """The URL with its password replaced by ***, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def first_line(exc: BaseException) -> str:
    """The first line of an error (of the driver's error, for SQLAlchemy's), for one-line messages."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_driver_panic(exc: BaseException) -> bool:
    """A Rust driver's panic (connectorx's ``pyo3_runtime.PanicException``).

    It derives from BaseException, so neither dlt's step wrapping nor ``except Exception``
    sees it.
    """
    return type(exc).__name__ == "PanicException" and not isinstance(exc, Exception)
