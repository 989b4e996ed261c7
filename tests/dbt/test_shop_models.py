"""The shop dbt models end to end: real simulator, real dlt pipeline, real dbt on DuckDB.

One temporary DATA_DIR goes through init → ingest → build, a crashed load, a two-day
advance → ingest → incremental build, and a full refresh; the tests check each step.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cli, dbt, platform_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# The shop lineage alone, with only the tests whose every parent is in it (other teams'
# models that join shop marts need their own sources).
SHOP = ["--select", "tag:shop", "--indirect-selection", "cautious"]
MARTS = ("fct_order_lines", "fct_orders", "fct_daily_revenue", "dim_customers", "dim_parts")
CRASHED_LOAD_ID = "1999999999.0"


def query(env: dict[str, str], sql: str) -> list[tuple]:
    with duckdb.connect(str(Path(env["DATA_DIR"]) / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def mart_rows(env: dict[str, str]) -> dict[str, set[tuple]]:
    return {mart: set(query(env, f"select * from main.{mart}")) for mart in MARTS}


def write_crashed_load(env: dict[str, str]) -> None:
    """Leave files of a load that never committed: every order, marked 'lost', later."""
    lake = Path(env["DATA_DIR"]) / "lake" / "raw" / "shop" / "orders"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * replace (
                    'lost' as o_fulfilment_status,
                    updated_at + interval 3650 day as updated_at,
                    '{CRASHED_LOAD_ID}' as _dlt_load_id
                )
                from read_parquet('{lake}/*.parquet', union_by_name = true)
            ) to '{lake}/{CRASHED_LOAD_ID}.crashed.parquet' (format parquet)
            """
        )


def change_a_part_and_an_offer(env: dict[str, str]) -> dict[int, tuple]:
    """The simulator never changes parts or offers: change one of each, as a shop would.

    Part 1's price goes up, and one offer of part 2 gets more stock, both stamped with the
    newest order's `updated_at`. Returns what dim_parts should then hold for parts 1 and 2
    (retail_price, available_quantity), from the shop itself.
    """
    with sqlite3.connect(Path(env["DATA_DIR"]) / "sources" / "shop.db") as con:
        (stamp,) = con.execute("select max(updated_at) from orders").fetchone()
        con.execute("update part set p_retailprice = p_retailprice + 1, updated_at = ? where p_partkey = 1", [stamp])
        con.execute(
            """
            update partsupp set ps_availqty = ps_availqty + 7, updated_at = ?
            where ps_partkey = 2 and ps_suppkey = (select min(ps_suppkey) from partsupp where ps_partkey = 2)
            """,
            [stamp],
        )
        rows = con.execute(
            """
            select p_partkey, p_retailprice, (select sum(ps_availqty) from partsupp where ps_partkey = p_partkey)
            from part where p_partkey in (1, 2)
            """
        )
        return {part: (Decimal(str(price)), quantity) for part, price, quantity in rows}


def source_orders(env: dict[str, str]) -> dict[int, str]:
    with sqlite3.connect(Path(env["DATA_DIR"]) / "sources" / "shop.db") as con:
        return dict(con.execute("select o_orderkey, o_fulfilment_status from orders"))


@pytest.fixture(scope="module")
def shop_runs(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("dbt_shop")
    # dbt's target/ and logs/ too, so parallel runs never share the checkout's.
    env = platform_env(
        data_dir,
        SF="0.01",
        DBT_TARGET_PATH=str(data_dir / "target"),
        DBT_LOG_PATH=str(data_dir / "logs"),
    )
    cli(env, "simulate", "init", "--sf", "0.01")
    cli(env, "ingest", "shop")
    first = dbt(env, "build", *SHOP)
    write_crashed_load(env)
    cli(env, "simulate", "advance", "--days", "2")
    changed_parts = change_a_part_and_an_offer(env)
    cli(env, "ingest", "shop")
    incremental = dbt(env, "build", *SHOP)
    after_incremental = mart_rows(env)
    parts = query(env, "select part_id, retail_price, available_quantity from dim_parts where part_id in (1, 2)")
    warehouse_orders = dict(query(env, "select order_id, fulfilment_status from fct_orders"))
    orders = source_orders(env)
    refreshed = dbt(env, "build", "--full-refresh", *SHOP)
    return {
        "env": env,
        "logs": {"first": first.stdout, "incremental": incremental.stdout},
        "refreshed": refreshed.stdout,
        "after_incremental": after_incremental,
        "after_full_refresh": mart_rows(env),
        "warehouse_orders": warehouse_orders,
        "source_orders": orders,
        "changed_parts": changed_parts,
        "warehouse_parts": {part: (price, quantity) for part, price, quantity in parts},
    }


@pytest.mark.parametrize("run", ["first", "incremental"], ids=["from-scratch", "incremental"])
def test_build_runs_models_and_their_tests(shop_runs, run):
    log = shop_runs["logs"][run]
    assert "Completed successfully" in log
    for kind in ("incremental model main.fct_orders", "unit_test", "snapshot", "test "):
        assert kind in log, f"{kind!r} missing from the {run} build"


def test_incremental_run_equals_full_refresh(shop_runs):
    incremental, refreshed = shop_runs["after_incremental"], shop_runs["after_full_refresh"]
    for mart in MARTS:
        assert incremental[mart], f"{mart} is empty"
        assert incremental[mart] == refreshed[mart], f"{mart} differs after --full-refresh"


def test_warehouse_mirrors_the_shop_after_changes(shop_runs):
    """Every order, with its latest fulfilment status, and nothing from the crashed load."""
    assert shop_runs["warehouse_orders"] == shop_runs["source_orders"]
    assert "lost" not in set(shop_runs["warehouse_orders"].values())


def test_changed_parts_and_offers_reach_dim_parts(shop_runs):
    """dim_parts is incremental: the day's run rebuilt the part whose price changed and the
    part one of whose offers changed (the rest is proved equal by the full refresh)."""
    assert shop_runs["warehouse_parts"] == shop_runs["changed_parts"]


def test_advanced_days_reach_the_marts(shop_runs):
    env = shop_runs["env"]
    (last_day,) = query(env, "select max(order_date) from fct_daily_revenue")[0]
    (simulated,) = query(env, "select max(order_date) from stg_shop__orders")[0]
    assert last_day == simulated
    assert str(last_day) > "1998-07-01"


def test_snapshot_versions_changed_customers(shop_runs):
    """The advanced days changed some loyalty tiers: those customers now have two rows."""
    env = shop_runs["env"]
    [(customers, versions, current)] = query(
        env,
        """
        select count(distinct customer_id), count(*), count(*) filter (dbt_valid_to is null)
        from main_snapshots.snap_shop__customers
        """,
    )
    (dimension,) = query(env, "select count(*) from dim_customers")[0]
    assert customers == current == dimension
    assert versions > customers


def test_source_freshness_and_docs(shop_runs):
    env = shop_runs["env"]
    freshness = dbt(env, "source", "freshness", "--select", "source:shop")
    assert "PASS freshness of shop._dlt_loads" in freshness.stdout
    dbt(env, "docs", "generate", "--select", "tag:shop")
    catalog = json.loads((Path(env["DBT_TARGET_PATH"]) / "catalog.json").read_text())
    columns = catalog["nodes"]["model.marketplace.fct_orders"]["columns"]
    assert {"order_id", "net_revenue", "fulfilment_status"} <= set(columns)
