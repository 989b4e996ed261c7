"""DuckDB as the shop's extract engine: the same lake as connectorx, and an exact cursor boundary.

Both engines read one SQLite shop at SF 0.01 into their own lake, for the first load
and for an incremental run a simulated day later; the tables must match in schema
(types, ``decimal(15,2)`` money, nullability) and in rows, both ways.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion import duck
from ingestion.pipelines.shop import pipeline
from ingestion.pipelines.shop.duckdb_loader import read_ahead
from ingestion.pipelines.shop.settings import MONEY_COLUMNS, TABLES
from simulator import advance_sources, init_sources
from tests.conftest import platform_settings

ENGINES = ("connectorx", "duckdb")


@pytest.fixture(scope="module")
def shop_days(tmp_path_factory) -> tuple[Path, Path]:
    """Copies of the SF 0.01 shop database at its cutoff and one simulated day later."""
    root = tmp_path_factory.mktemp("shop-days")
    settings = platform_settings(root / "data")
    init_sources(settings, date(1998, 7, 25), only=())
    db = Path(settings.shop_db_url.removeprefix("sqlite:///"))
    day0 = shutil.copyfile(db, root / "day0.db")
    advance_sources(settings, 1)
    return day0, shutil.copyfile(db, root / "day1.db")


def engine_settings(root: Path, engine: str, db: Path):
    return platform_settings(root / engine, SHOP_DB_URL=f"sqlite:///{db}", SHOP_EXTRACT_ENGINE=engine)


def raw_files(settings, table: str) -> list[Path]:
    return sorted(Path(settings.zone_url("raw", "shop", table)).glob("*.parquet"))


def test_duckdb_lands_the_same_tables_as_connectorx(tmp_path, shop_days):
    day0, day1 = shop_days
    db = shutil.copyfile(day0, tmp_path / "shop.db")
    lakes = {engine: engine_settings(tmp_path, engine, db) for engine in ENGINES}
    day_rows = {}
    for settings in lakes.values():
        pipeline.run(settings, progress=None)
    shutil.copyfile(day1, db)
    for engine, settings in lakes.items():
        day_rows[engine] = {t: n for t, n in pipeline.run(settings, progress=None)["rows"].items() if n}
    assert day_rows["duckdb"] == day_rows["connectorx"] and sum(day_rows["duckdb"].values()) > 0

    con = duck.connect()
    for table in TABLES:
        schemas = {
            engine: {pq.read_schema(f).remove_metadata() for f in raw_files(settings, table)}
            for engine, settings in lakes.items()
        }
        assert len(schemas["duckdb"]) == 1 and schemas["duckdb"] == schemas["connectorx"], table
        (schema,) = schemas["duckdb"]
        for name in MONEY_COLUMNS & set(schema.names):
            assert str(schema.field(name).type) == "decimal128(15, 2)", name
        assert not schema.field("updated_at").nullable, "NOT NULL columns land as required fields"
        data = [n for n in schema.names if n != "_dlt_load_id"]
        selects = [
            f"select {', '.join(data)} from read_parquet('{settings.zone_url('raw', 'shop', table)}/*.parquet')"
            for settings in lakes.values()
        ]
        rows = con.execute(f"select count(*) from ({selects[0]})").fetchone()[0]
        only_first = con.execute(f"select count(*) from ({selects[0]} except all {selects[1]})").fetchone()[0]
        only_second = con.execute(f"select count(*) from ({selects[1]} except all {selects[0]})").fetchone()[0]
        assert rows > 0 and only_first == only_second == 0, f"{table}: {only_first} / {only_second} of {rows} differ"
    con.close()


def _set_updated_at(db: Path, table: str, key: str, keys: list[int], value: str) -> None:
    with closing(sqlite3.connect(db)) as con, con:
        con.executemany(f"update {table} set updated_at = ? where {key} = ?", [(value, k) for k in keys])


def _landed(settings, table: str, key: str) -> list[tuple[int, datetime]]:
    con = duck.connect()
    path = f"{settings.zone_url('raw', 'shop', table)}/*.parquet"
    rows = con.execute(f"select {key}, updated_at from read_parquet('{path}') order by all").fetchall()
    con.close()
    return rows


@pytest.mark.parametrize("engine", ENGINES, ids=list(ENGINES))
def test_the_cursor_neither_skips_nor_repeats_rows_at_its_boundary(tmp_path, shop_days, engine, monkeypatch):
    """Rows at the last value load once; rows after it, by half a second on the same day, load next run.

    Batches of 7 rows split the rows that share the boundary value across many batches. The
    source's arguments come from dlt's configuration: the customer table only, 7 rows a batch.
    Before the second run some rows at the boundary are written again with a ``T`` (the
    same instant: not loaded again), and some of the later rows a second later with a ``T``.
    """
    monkeypatch.setenv("SOURCES__SHOP__CHUNK_SIZE", "7")
    monkeypatch.setenv("SOURCES__SHOP__TABLES", '["customer"]')
    db = shutil.copyfile(shop_days[0], tmp_path / "shop.db")
    settings = engine_settings(tmp_path, engine, db)
    with closing(sqlite3.connect(db)) as con:
        boundary = con.execute("select max(updated_at) from customer").fetchone()[0]
        keys = [k for (k,) in con.execute("select c_custkey from customer order by c_custkey limit 40")]
    at_boundary, after = keys[:20], keys[20:]
    _set_updated_at(db, "customer", "c_custkey", at_boundary, boundary)
    first = pipeline.run(settings, progress=None)["rows"]["customer"]
    with closing(sqlite3.connect(db)) as con:
        assert first == con.execute("select count(*) from customer").fetchone()[0]
    last = datetime.fromisoformat(boundary)
    half_second_later = (last + timedelta(milliseconds=500)).isoformat(sep=" ", timespec="microseconds")
    _set_updated_at(db, "customer", "c_custkey", after[:10], half_second_later)
    _set_updated_at(db, "customer", "c_custkey", after[10:], (last + timedelta(seconds=1)).isoformat(sep="T"))
    _set_updated_at(db, "customer", "c_custkey", at_boundary[:5], last.isoformat(sep="T"))

    second = pipeline.run(settings, progress=None)["rows"]
    third = pipeline.run(settings, progress=None)["rows"]

    assert second == {"customer": len(after)}, "only the rows after the boundary"
    # connectorx's SQL compares SQLite's text, so it reads the rows written with a T again and
    # dlt drops them all (the table is then absent); DuckDB compares timestamps: 0 rows
    assert third.get("customer", 0) == 0, "nothing new, nothing loaded"
    landed = _landed(settings, "customer", "c_custkey")
    assert len(landed) == len(set(landed)) == first + len(after)
    assert sum(1 for k, ts in landed if k in at_boundary and ts == last) == len(at_boundary)


# -- reading one batch ahead ------------------------------------------------------------------


def scan(con, rows: int, batch: int = 1000):
    return con.execute(f"select range as n from range({rows})").to_arrow_reader(batch)


def test_read_ahead_yields_every_batch_in_order():
    con = duck.connect()
    batches = list(read_ahead(scan(con, 10_500)))
    assert [b.num_rows for b in batches] == [1000] * 10 + [500]
    assert [n for b in batches for n in b.column("n").to_pylist()] == list(range(10_500))


def test_a_read_that_fails_raises_where_its_batch_is_asked_for():
    def batches():
        for i in range(2):
            yield pa.record_batch({"n": [i] * 1000})
        raise sqlite3.DatabaseError("database disk image is malformed")

    reader = pa.RecordBatchReader.from_batches(pa.schema({"n": pa.int64()}), batches())
    got = []
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        for batch in read_ahead(reader):
            got.append(batch.num_rows)
    assert got == [1000, 1000], "the batches read before the failure reach the caller first"


def test_a_caller_that_stops_early_stops_the_reader_too():
    con = duck.connect()
    batches = read_ahead(scan(con, 100_000))
    assert next(batches).num_rows == 1000
    batches.close()  # as dlt does when a later step of the extraction fails
    assert not [t for t in threading.enumerate() if t.name == "shop-read-ahead"]
    assert con.execute("select 42").fetchone() == (42,), "the connection is free again"
