"""Checks that turn the usual failures into one clear line before any data moves."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings
from ingestion.simulator.context import SimContext


def check_shop_database(settings: Settings) -> None:
    """Fail early if the shop database is missing, corrupt or was never initialised."""
    ctx = SimContext(settings)
    if ctx.backend == "sqlite":
        path = Path(ctx.attach_target)
        if not path.exists():
            raise PlatformError(f"no shop database at {path}: run `ingestion sources init` first")
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
                con.execute("select count(*) from sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise PlatformError(f"the shop database {path} is not readable: {exc}") from exc
    ctx.require_initialised()


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
