"""The shop simulator: history, daily releases, mutations, determinism, repair, backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import pytest

from ingestion import duck
from ingestion.devservices import postgres
from ingestion.pipelines.shop.settings import MONEY_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from simulator import advance_sources, init_sources, shop
from simulator.context import SimContext
from tests.conftest import platform_settings

TPCH_TABLES = ("region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem")


def make_settings(data_dir, **overrides):
    settings = platform_settings(data_dir)
    return replace(settings, **overrides)


def tpch_columns(table: str) -> list[str]:
    return [c for c in shop.TABLES[table] if c not in shop.SIMULATOR_COLUMNS]


def comparable(table: str, alias: str = "") -> str:
    """TPC-H columns with money cast to decimal: SQLite stores REAL, dbgen DECIMAL(15,2)."""
    cols = []
    for name in tpch_columns(table):
        kind = shop.TABLES[table][name]
        cols.append(f"cast({alias}{name} as decimal(15,2))" if kind == shop.MONEY else f"{alias}{name}")
    return ", ".join(cols)


def table_digest(ctx: SimContext, table: str) -> tuple:
    con = ctx.connect(read_only=True)
    try:
        return con.execute(f"select count(*), sum(hash(t)) from shop.{table} as t").fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def advanced(tmp_path_factory):
    """A shop initialised at 1998-07-28 and advanced past TPC-H's last order date."""
    settings = make_settings(tmp_path_factory.mktemp("shop"))
    init_sources(settings, date(1998, 7, 28))
    ctx = SimContext(settings)
    before = {t: table_digest(ctx, t) for t in ("orders", "customer")}
    con = ctx.connect(read_only=True)
    orders_before = con.execute("select o_orderkey, o_fulfilment_status, updated_at from shop.orders").fetchall()
    con.close()
    advance_sources(settings, 10)
    return settings, before, dict((k, (s, u)) for k, s, u in orders_before)


def test_the_simulated_shop_has_exactly_the_columns_the_shop_pipeline_reads():
    for table, columns in shop.TABLES.items():
        expected = {*REQUIRED_COLUMNS[table], *OPTIONAL_COLUMNS.get(table, ())}
        assert set(columns) == expected, table
    assert set(shop.TABLES) == set(REQUIRED_COLUMNS)


def test_the_pipeline_lands_every_simulated_money_column_as_a_decimal():
    money = {column for columns in shop.TABLES.values() for column, kind in columns.items() if kind == shop.MONEY}
    assert money == MONEY_COLUMNS


def test_history_stops_at_the_cutoff(tmp_path):
    settings = make_settings(tmp_path)
    ctx = init_sources(settings, date(1998, 6, 1))
    assert ctx.clock() == date(1998, 6, 1)
    con = ctx.connect(read_only=True)
    latest, n_orders = con.execute("select max(o_orderdate), count(*) from shop.orders").fetchone()
    orphans = con.execute(
        "select count(*) from shop.lineitem l anti join shop.orders o on o.o_orderkey = l.l_orderkey"
    ).fetchone()[0]
    statuses = dict(con.execute("select o_fulfilment_status, count(*) from shop.orders group by 1").fetchall())
    con.close()
    assert latest == date(1998, 6, 1)
    assert n_orders > 10_000
    assert orphans == 0, "every released line belongs to a released order"
    assert set(statuses) == {"placed", "shipped", "delivered"}


def test_tpch_columns_equal_dbgen_once_the_clock_passes_the_last_order_date(advanced):
    settings, _, _ = advanced
    ctx = SimContext(settings)
    assert ctx.clock() == date(1998, 8, 7)
    con = ctx.connect(read_only=True)
    duck.load_extensions(con, "tpch")
    con.execute("create schema fresh")
    con.execute("use fresh")
    con.execute("call dbgen(sf = 0.01)")  # generated independently of the simulator's cache
    for table in TPCH_TABLES:
        missing = con.execute(
            f"select count(*) from (select {comparable(table)} from fresh.{table} "
            f"except all select {comparable(table)} from shop.{table})"
        ).fetchone()[0]
        extra = con.execute(
            f"select count(*) from (select {comparable(table)} from shop.{table} "
            f"except all select {comparable(table)} from fresh.{table})"
        ).fetchone()[0]
        assert (missing, extra) == (0, 0), f"{table}: {missing} rows missing, {extra} extra"
    con.close()


def test_advance_mutates_existing_rows_and_bumps_updated_at(advanced):
    settings, _, orders_before = advanced
    con = SimContext(settings).connect(read_only=True)
    after = {k: (s, u) for k, s, u in con.execute(
        "select o_orderkey, o_fulfilment_status, updated_at from shop.orders"
    ).fetchall()}  # fmt: skip
    promoted = con.execute(
        "select count(*) from shop.customer where updated_at > timestamp '1998-07-29 00:00:00'"
    ).fetchone()[0]
    con.close()
    changed = {k for k in orders_before if after[k] != orders_before[k]}
    assert changed, "some existing orders progressed"
    order = ["placed", "shipped", "delivered"]
    for key in changed:
        (old_status, old_at), (new_status, new_at) = orders_before[key], after[key]
        assert order.index(new_status) > order.index(old_status)
        assert new_at > old_at and new_at.date() > date(1998, 7, 28)
    assert promoted > 0, "some customers' loyalty tier changed"


def test_dbgen_in_steps_writes_the_same_universe_as_one_call(tmp_path, monkeypatch):
    """Above SF 1 dbgen runs in parts, so memory holds one part and not the whole SF."""
    assert [shop.dbgen_steps(sf) for sf in (0.01, 1, 2.5, 10, 100)] == [1, 1, 3, 10, 100]
    digests = {}
    for steps in (1, 3):
        monkeypatch.setattr(shop, "dbgen_steps", lambda sf, steps=steps: steps)
        settings = make_settings(tmp_path / f"steps{steps}", tpch_cache_dir=tmp_path / f"cache{steps}")
        with duckdb.connect(str(shop.ensure_universe(SimContext(settings))), read_only=True) as con:
            tables = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
            digests[steps] = {t: con.execute(f"select count(*), sum(hash(t)) from {t} as t").fetchone() for t in tables}
    assert set(TPCH_TABLES) < set(digests[1]), "the universe holds TPC-H and the derived timelines"
    assert digests[3] == digests[1]


def test_same_seed_gives_identical_databases_and_another_seed_does_not(tmp_path):
    digests = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        settings = make_settings(tmp_path / name, seed=seed)
        init_sources(settings, date(1998, 7, 20))
        advance_sources(settings, 2)
        ctx = SimContext(settings)
        digests[name] = [table_digest(ctx, t) for t in TPCH_TABLES]
    assert digests["a"] == digests["b"]
    assert digests["a"] != digests["c"], "the seed decides the times of day"


def test_a_crashed_advance_resumes_without_duplicates_or_gaps(tmp_path, monkeypatch):
    straight = make_settings(tmp_path / "straight")
    init_sources(straight, date(1998, 7, 20))
    advance_sources(straight, 3)

    crashed = make_settings(tmp_path / "crashed")
    init_sources(crashed, date(1998, 7, 20))
    real_release = shop.release_day

    def release_then_crash_on_day_two(con, day):
        counts = real_release(con, day)
        if day == date(1998, 7, 22):
            raise RuntimeError("power cut")
        return counts

    monkeypatch.setattr(shop, "release_day", release_then_crash_on_day_two)
    with pytest.raises(RuntimeError, match="power cut"):
        advance_sources(crashed, 3)
    assert SimContext(crashed).clock() == date(1998, 7, 21), "the crashed day rolled back with the clock"
    monkeypatch.setattr(shop, "release_day", real_release)
    advance_sources(crashed, 2)

    a, b = SimContext(straight), SimContext(crashed)
    assert a.clock() == b.clock() == date(1998, 7, 23)
    for table in TPCH_TABLES:
        assert table_digest(a, table) == table_digest(b, table), table


@pytest.mark.postgres
def test_postgres_backend_holds_the_same_rows_as_sqlite(tmp_path):
    import tempfile
    from pathlib import Path

    pg_dir = Path(tempfile.mkdtemp(prefix="shop-pg-"))
    server = postgres.start(pg_dir)
    try:
        url = postgres.create_database(server, "shop")
        on_pg = make_settings(tmp_path / "pg", shop_db_url=url)
        on_sqlite = make_settings(tmp_path / "sqlite")
        for settings in (on_pg, on_sqlite):
            init_sources(settings, date(1998, 7, 25))
            advance_sources(settings, 2)
        pg, lite = SimContext(on_pg), SimContext(on_sqlite)
        assert pg.backend == "postgres" and lite.backend == "sqlite"
        assert pg.clock() == lite.clock() == date(1998, 7, 27)
        con = lite.connect(read_only=True)
        duck.load_extensions(con, "postgres_scanner")
        con.execute(f"attach '{url}' as pg (type postgres, read_only)")
        for table in TPCH_TABLES:
            cols = f"{comparable(table)}, {', '.join(shop.SIMULATOR_COLUMNS & set(shop.TABLES[table])) or 'null'}"
            diff = con.execute(
                f"select count(*) from (select {cols}, updated_at from shop.{table} "
                f"except all select {cols}, updated_at from pg.{table})"
            ).fetchone()[0]
            assert diff == 0, table
        con.close()
    finally:
        postgres.stop(pg_dir, remove=True)
