"""Checks that turn the usual failures into one clear line before any data moves."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa

from ingestion.errors import PlatformError
from ingestion.pipelines.shop.settings import CURSOR_COLUMN, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from ingestion.settings import Settings


def check_shop_database(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Fail early, in one line, if the shop database cannot be read or lacks a table or column.

    Checks what a production pipeline needs, nothing more: the database answers, and every
    table has the columns staging reads plus the ``updated_at`` cursor. Returns, per table,
    the optional columns it lacks (they land as nulls).
    """
    url = connection_url(settings.shop_db_url)
    where = redacted(url)
    scanner, target = parse_shop_url(url)
    if scanner == "sqlite":
        path = Path(target)
        if not path.exists():
            raise PlatformError(f"no shop database at {path}: set SHOP_DB_URL (or run `marketplace simulate init`)")
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
                con.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise PlatformError(f"the shop database {path} is not readable: {exc}") from exc
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
