"""What every simulator gets: settings, the clock, and DuckDB access to the shop database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.pipelines.shop.helpers import first_line, parse_shop_url, redacted
from ingestion.settings import Settings

CLOCK_TABLE = "simulator_clock"
SHOP = "shop"  # the clock row of the shop database itself


class SimContext:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.backend, self.attach_target = parse_shop_url(settings.shop_db_url)

    # -- connections -------------------------------------------------------------------
    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the shop database attached as ``shop``."""
        con = duck.connect(":memory:", f"{self.backend}_scanner", settings=self.settings)
        mode = ", READ_ONLY" if read_only else ""
        try:
            con.execute(f"ATTACH '{self.attach_target}' AS shop (TYPE {self.backend}{mode})")
        except duckdb.Error as exc:
            con.close()
            raise PlatformError(f"cannot open the shop database {self.redacted_url}: {first_line(exc)}") from exc
        return con

    @property
    def redacted_url(self) -> str:
        return redacted(self.settings.shop_db_url)

    # -- the clock -------------------------------------------------------------------
    def watermarks(self) -> dict[str, date]:
        con = self.connect(read_only=True)
        try:
            tables = {
                r[0]
                for r in con.execute(
                    "select table_name from information_schema.tables where table_catalog = 'shop'"
                ).fetchall()
            }
            if CLOCK_TABLE not in tables:
                return {}
            rows = con.execute(f"select source, sim_date from shop.{CLOCK_TABLE}").fetchall()
        finally:
            con.close()
        return {source: to_date(day) for source, day in rows}

    def require_initialised(self) -> None:
        if self.backend == "sqlite" and not Path(self.attach_target).exists():
            raise PlatformError(f"no shop database at {self.attach_target}: run `marketplace simulate init` first")
        if SHOP not in self.watermarks():
            raise PlatformError(
                f"the shop database {self.redacted_url} has no simulator clock: run `marketplace simulate init` first"
            )

    def clock(self) -> date:
        """The simulated date: the last day the shop database has released."""
        rows = self.watermarks()
        if SHOP not in rows:
            raise PlatformError("the simulator has not been initialised: run `marketplace simulate init`")
        return rows[SHOP]

    def watermark(self, source: str) -> date | None:
        return self.watermarks().get(source)

    def set_watermark(self, source: str, day: date, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Record that ``source`` has produced everything up to and including ``day``.

        Pass the connection of an open transaction to make the clock move atomically with
        the rows that day released.
        """
        own = con is None
        con = con or self.connect()
        try:
            con.execute(f"delete from shop.{CLOCK_TABLE} where source = ?", [source])
            con.execute(f"insert into shop.{CLOCK_TABLE} (source, sim_date) values (?, ?)", [source, day])
        finally:
            if own:
                con.close()


def to_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
