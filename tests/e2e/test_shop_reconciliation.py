"""The marts reconcile exactly with the shop database after any init/advance/ingest/build
sequence, and the incremental warehouse equals a --full-refresh build row for row."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion import duck
from simulator.context import parse_shop_url
from tests.conftest import cli, dbt, platform_env, run

pytestmark = pytest.mark.e2e

SOURCE_BY_DAY = """
    with orders as (
        select o_orderdate as order_date, count(*) as orders from shop.orders group by all
    ),
    lines as (
        select o.o_orderdate as order_date, count(*) as lines,
            sum(cast(l.l_extendedprice as decimal(15, 2))) as extended_price,
            sum(cast(l.l_extendedprice as decimal(15, 2)) * (1 - cast(l.l_discount as decimal(15, 2)))) as net_revenue
        from shop.lineitem as l join shop.orders as o on o.o_orderkey = l.l_orderkey
        group by all
    )
    select order_date, orders, lines, extended_price, net_revenue from orders join lines using (order_date)
"""
MARTS_BY_DAY = """
    with orders as (select order_date, count(*) as orders from wh.{orders} group by all),
    lines as (
        select order_date, count(*) as lines, sum(extended_price) as extended_price, sum(net_revenue) as net_revenue
        from wh.{lines} group by all
    )
    select order_date, orders, lines, extended_price, net_revenue from orders join lines using (order_date)
"""
DAILY_REVENUE_BY_DAY = """
    select order_date, sum(order_count), sum(order_line_count), sum(extended_price), sum(net_revenue)
    from wh.{daily} group by all
"""


def by_day(con, query: str) -> dict:
    return {row[0]: tuple(Decimal(str(v)) for v in row[1:]) for row in con.execute(query).fetchall()}


def relation(con, name: str) -> str:
    schema = con.execute(
        "select table_schema from information_schema.tables where table_catalog = 'wh' and table_name = ?", [name]
    ).fetchone()
    assert schema, f"mart {name} is missing from the warehouse"
    return f"{schema[0]}.{name}"


def reconcile(env: dict[str, str]) -> int:
    """Compare per-day counts and sums between the shop database and the marts; returns days checked."""
    _, target = parse_shop_url(f"sqlite:///{env['DATA_DIR']}/sources/shop.db")
    con = duck.connect(":memory:", "sqlite_scanner")
    con.execute(f"attach '{target}' as shop (type sqlite, read_only)")
    con.execute(f"attach '{env['DATA_DIR']}/warehouse.duckdb' as wh (read_only)")
    names = {n: relation(con, n) for n in ("fct_orders", "fct_order_lines", "fct_daily_revenue")}
    source = by_day(con, SOURCE_BY_DAY)
    marts = by_day(con, MARTS_BY_DAY.format(orders=names["fct_orders"], lines=names["fct_order_lines"]))
    daily = by_day(con, DAILY_REVENUE_BY_DAY.format(daily=names["fct_daily_revenue"]))
    con.close()
    assert set(marts) == set(source), "days differ between the marts and the source"
    mismatched = {d: (source[d], marts[d]) for d in source if source[d] != marts[d]}
    assert not mismatched, f"{len(mismatched)} days differ, e.g. {next(iter(mismatched.items()))}"
    assert daily == source, "fct_daily_revenue does not add up to the source"
    return len(source)


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """init → run, then three advances each followed by `make run` (ingest, process, build)."""
    env = platform_env(tmp_path_factory.mktemp("journey"), SF="0.01")
    cli(env, "simulate", "init", "--cutoff", "1998-07-20")
    checkpoints = []
    for days in (0, 1, 3, 10):  # the last advance passes TPC-H's final order date (1998-08-02)
        if days:
            cli(env, "simulate", "advance", "--days", str(days))
        run(["make", "run"], env)
        checkpoints.append(reconcile(env))
    return env, checkpoints


def test_marts_reconcile_with_the_source_after_every_advance(journey):
    _, checkpoints = journey
    assert checkpoints[0] > 2000, "the history covers years of days"
    assert checkpoints == sorted(checkpoints) and checkpoints[-1] > checkpoints[0], "each advance added days"


def assert_same_marts(built: Path, rebuilt: str, expected: set[str]) -> dict[str, int]:
    """Every fct_/dim_ table of ``rebuilt`` (the live warehouse) equals ``built`` row for row; their row counts."""
    con = duck.connect()
    con.execute(f"attach '{built}' as built (read_only)")
    con.execute(f"attach '{rebuilt}' as wh (read_only)")
    marts = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = 'wh' "
        "and (starts_with(table_name, 'fct_') or starts_with(table_name, 'dim_'))"
    ).fetchall()
    assert expected <= {t for _, t in marts}
    counts = {}
    for schema, table in marts:
        rows = counts[table] = con.execute(f"select count(*) from wh.{schema}.{table}").fetchone()[0]
        for a, b in (("built", "wh"), ("wh", "built")):
            query = f"select * from {a}.{schema}.{table} except all select * from {b}.{schema}.{table}"
            diff = con.execute(f"select count(*) from ({query})").fetchone()[0]
            assert diff == 0, f"{table}: {diff} of {rows} rows in {a} are not in {b}"
    con.close()
    return counts


def test_incremental_warehouse_equals_a_full_refresh_build(journey, tmp_path):
    env, _ = journey
    warehouse = f"{env['DATA_DIR']}/warehouse.duckdb"
    incremental = tmp_path / "incremental.duckdb"
    shutil.copy(warehouse, incremental)
    dbt(env, "build", "--full-refresh")
    assert_same_marts(incremental, warehouse, {"fct_orders", "fct_order_lines", "fct_daily_revenue", "dim_customers"})
