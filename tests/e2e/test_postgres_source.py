"""A team's own PostgreSQL database, made without the simulator, ingested and built into marts.

The database holds what any operational copy of TPC-H would: the eight tables straight
from DuckDB's dbgen plus an ``updated_at`` column. No simulator clock, no loyalty tier, no
fulfilment status, no payments, partners or clickstream. The shop pipeline must load it
and the shop marts must reconcile with it; a database that lacks a table or column the
pipeline needs must fail in one line before any data moves.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest

from ingestion import duck
from ingestion.devservices import postgres
from ingestion.pipelines.shop.settings import TABLES
from tests.conftest import cli, dbt, platform_env

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(900)]

SHOP = ["--select", "tag:shop", "--indirect-selection", "cautious"]
CHANGED_AT = "1998-08-03 04:05:06"


def _load_tpch(url: str, sf: float = 0.01, drop: tuple[str, str] | None = None, skip_table: str | None = None) -> None:
    """The eight dbgen tables plus updated_at; optionally without one column or one table."""
    con = duck.connect(":memory:", "tpch", "postgres_scanner")
    try:
        con.execute(f"call dbgen(sf = {sf})")
        con.execute(f"attach '{url}' as erp (type postgres)")
        for table in TABLES:
            if table != skip_table:
                con.execute(
                    f"create table erp.public.{table} as "
                    f"select *, timestamp '{CHANGED_AT}' as updated_at from main.{table}"
                )
    finally:
        con.close()
    if drop:
        with psycopg2.connect(url) as pg_con, pg_con.cursor() as cur:
            cur.execute(f"alter table {drop[0]} drop column {drop[1]}")


def _scalar(url: str, sql: str):
    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


@pytest.fixture(scope="module")
def pg():
    base = Path(tempfile.mkdtemp(prefix="erp-pg-"))  # not pytest's 0700 tmp: the server runs as postgres
    server = postgres.start(base)
    yield server
    postgres.stop(base, remove=True)


@pytest.fixture(scope="module")
def built(pg, tmp_path_factory) -> dict:
    url = postgres.create_database(pg, "erp")
    _load_tpch(url)
    env = platform_env(tmp_path_factory.mktemp("erp"), SHOP_DB_URL=url)
    ingest = cli(env, "ingest", "shop")
    dbt(env, "build", *SHOP)
    warehouse = duckdb.connect(str(Path(env["DATA_DIR"]) / "warehouse.duckdb"), read_only=True)
    yield {"url": url, "env": env, "ingest": ingest, "warehouse": warehouse}
    warehouse.close()


def test_the_database_has_nothing_of_the_simulator(built):
    sql = "select string_agg(table_name, ',') from information_schema.tables where table_schema = 'public'"
    tables = _scalar(built["url"], sql)
    assert sorted(tables.split(",")) == sorted(TABLES)
    assert not (Path(built["env"]["DATA_DIR"]) / "sources").exists()


def test_every_row_lands_in_the_lake(built):
    expected = sum(_scalar(built["url"], f"select count(*) from {table}") for table in TABLES)
    assert f"shop: loaded {expected:,} rows" in built["ingest"].stdout


@pytest.mark.parametrize(
    ("mart", "source_sql"),
    [
        ("select count(*) from main.fct_orders", "select count(*) from orders"),
        ("select count(*) from main.fct_order_lines", "select count(*) from lineitem"),
        ("select sum(extended_price) from main.fct_order_lines", "select sum(l_extendedprice) from lineitem"),
        (
            "select sum(net_revenue) from main.fct_daily_revenue",
            "select sum(l_extendedprice * (1 - l_discount)) from lineitem",
        ),
        ("select count(*) from main.dim_customers", "select count(*) from customer"),
    ],
    ids=["orders", "lines", "extended-price", "net-revenue", "customers"],
)
def test_marts_reconcile_with_the_database(built, mart, source_sql):
    built_value = built["warehouse"].execute(mart).fetchone()[0]
    source_value = _scalar(built["url"], source_sql)
    assert Decimal(str(built_value)) == Decimal(str(source_value))


def test_attributes_the_database_lacks_are_unknown_not_invented(built):
    statuses = built["warehouse"].execute("select count(*), count(fulfilment_status) from main.fct_orders").fetchone()
    assert statuses[0] > 0 and statuses[1] == 0


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"drop": ("lineitem", "l_shipdate")}, "table lineitem has no column l_shipdate"),
        ({"drop": ("orders", "updated_at")}, "table orders has no column updated_at"),
        ({"skip_table": "partsupp"}, "table partsupp is missing"),
    ],
    ids=["column", "cursor", "table"],
)
def test_a_database_without_a_needed_table_or_column_fails_in_one_line(pg, tmp_path, broken, message):
    url = postgres.create_database(pg, "broken")
    _load_tpch(url, sf=0.001, **broken)
    env = platform_env(tmp_path, SHOP_DB_URL=url)
    proc = cli(env, "ingest", "shop", check=False)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1
    assert lines == [f"error: shop source {url}: {message}"]
    assert not (tmp_path / "lake").exists() and not (tmp_path / "dlt").exists()
