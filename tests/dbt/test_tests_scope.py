"""Data tests scoped to this run's rows (`make run`) against every row (`make build`).

A copy of the built platform gets an orphan order line in its OLD history (written into
the warehouse, as a bug of long ago would have left it), then a day is released and
loaded: the daily build, which checks only that day's rows, passes; the full test run
catches the old orphan. Then an orphan arrives with the next load: the daily build
catches it, and only it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cli, dbt, platform_env

pytestmark = pytest.mark.e2e

SCOPED = ["--vars", "{tests_scope: run}"]
# The order lines, the orders they must belong to, and the load ledger both read (a view
# over the lake: rebuilt, since the copy's lake is not the one the view was made over).
# Cautious: only tests whose every parent is built here (not the marts' over these).
LINES = ["--select", "stg_shop__loads", "stg_shop__orders", "stg_shop__line_items", "--indirect-selection", "cautious"]
ORPHAN_TEST = "relationships_stg_shop__line_items_order_id__order_id__ref_stg_shop__orders_"


def warehouse(env: dict[str, str], sql: str, read_only: bool = True) -> list[tuple]:
    with duckdb.connect(str(Path(env["DATA_DIR"]) / "warehouse.duckdb"), read_only=read_only) as con:
        return con.execute(sql).fetchall()


def orphans(env: dict[str, str], scope: str = "1 = 1") -> set[str]:
    """Order lines whose order is not in staging, by the test's own SQL."""
    return {
        row[0]
        for row in warehouse(
            env,
            f"""
            select lines.order_line_id
            from main.stg_shop__line_items as lines
            left join main.stg_shop__orders as orders on lines.order_id = orders.order_id
            where orders.order_id is null and {scope}
            """,
        )
    }


def run_results(env: dict[str, str]) -> list[dict]:
    return json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]


def failures(env: dict[str, str], test_name: str) -> int:
    results = run_results(env)
    # A generic test's id ends in a hash, a singular test's in its name.
    found = [r for r in results if r["unique_id"].split(".")[2] == test_name]
    assert found, f"{test_name} did not run"
    return found[0]["failures"]


@pytest.fixture(scope="module")
def platform(built_platform, tmp_path_factory) -> dict[str, str]:
    """A copy of the built platform (SF 0.01), so the shared one stays clean."""
    data_dir = tmp_path_factory.mktemp("scope") / "data"
    shutil.copytree(built_platform["DATA_DIR"], data_dir, symlinks=True)
    return platform_env(data_dir, SF="0.01")


@pytest.fixture(scope="module")
def old_orphan(platform) -> str:
    """An orphan line in history: a copy of a loaded line, under an order that does not exist."""
    warehouse(
        platform,
        """
        insert into main.stg_shop__line_items
        select * replace ('old-orphan' as order_line_id, -1 as order_id)
        from main.stg_shop__line_items
        limit 1
        """,
        read_only=False,
    )
    return "old-orphan"


@pytest.fixture(scope="module")
def daily_build(platform, old_orphan):
    """Release a day, load it and build the shop's order lines with the daily scope."""
    cli(platform, "simulate", "advance", "--days", "1")
    cli(platform, "ingest", "shop")
    return dbt(platform, "build", *LINES, *SCOPED, check=False)


def test_the_daily_build_does_not_recheck_old_rows(platform, old_orphan, daily_build):
    assert orphans(platform) == {old_orphan}, "the history should hold the one orphan this test wrote"
    new_rows = warehouse(platform, "select count(*) from main.stg_shop__line_items where order_line_id != 'old-orphan'")
    assert new_rows[0][0] > 0
    assert daily_build.returncode == 0, daily_build.stdout[-3000:]
    assert failures(platform, ORPHAN_TEST) == 0


def test_the_full_test_run_catches_the_old_row(platform, old_orphan, daily_build):
    proc = dbt(platform, "test", "--select", "stg_shop__line_items", check=False)
    assert proc.returncode != 0, "the full run should fail on the old orphan"
    assert failures(platform, ORPHAN_TEST) == len(orphans(platform)) == 1


def test_the_daily_build_catches_a_bad_row_of_its_own_load(platform, old_orphan, daily_build):
    shop = Path(platform["DATA_DIR"]) / "sources" / "shop.db"
    with sqlite3.connect(shop) as con:
        columns = [row[1] for row in con.execute("pragma table_info(lineitem)")]
        values = {
            "l_orderkey": "(select max(o_orderkey) + 1000 from orders)",
            "updated_at": "(select datetime(max(updated_at), '+1 second') from lineitem)",
        }
        con.execute(
            f"insert into lineitem ({', '.join(columns)}) "
            f"select {', '.join(values.get(c, c) for c in columns)} from lineitem limit 1"
        )
    boundary = warehouse(platform, "select max(_loaded_at) from main.stg_shop__line_items")[0][0]
    loaded = cli(platform, "ingest", "shop")
    proc = dbt(platform, "build", *LINES, *SCOPED, check=False)
    assert proc.returncode != 0, f"the daily build passed:\n{loaded.stdout[-500:]}\n{proc.stdout[-3000:]}"
    new_orphans = orphans(platform, f"lines._loaded_at > timestamp '{boundary}'")
    assert len(new_orphans) == 1 and old_orphan not in new_orphans
    assert failures(platform, ORPHAN_TEST) == len(new_orphans)


# The clickstream's tests follow the event dates a run rebuilds (`__event_dates_of_this_run__`).
EVENTS = [
    "--select",
    "source:clickstream.events",
    "stg_clickstream__events",
    "int_clickstream_events_sessionized",
    "--indirect-selection",
    "cautious",
]
SESSIONIZED_UNIQUE = "unique_int_clickstream_events_sessionized_event_id"
LAKE_SOURCE_UNIQUE = "source_unique_clickstream_events_event_id"
LAKE_STAGING_UNIQUE = "unique_stg_clickstream__events_event_id"


def first_date_rebuilt(env: dict[str, str]):
    found = warehouse(env, "select boundary from main.dbt_run_scope where column_name = '__event_dates_of_this_run__'")
    assert len(found) == 1, f"the run recorded no first rebuilt date: {found}"
    return found[0][0]


@pytest.fixture(scope="module")
def old_duplicate(platform) -> str:
    """An event twice in the oldest day of the sessionized events, as a bug of long ago would have left it."""
    warehouse(
        platform,
        """
        insert into main.int_clickstream_events_sessionized
        select * from main.int_clickstream_events_sessionized
        where event_date = (select min(event_date) from main.int_clickstream_events_sessionized)
        limit 1
        """,
        read_only=False,
    )
    return warehouse(
        platform, "select event_id from main.int_clickstream_events_sessionized group by 1 having count(*) > 1"
    )[0][0]


@pytest.fixture(scope="module")
def clickstream_day(platform, old_duplicate, daily_build):
    """The released day's events landed and processed, then built with the daily scope."""
    cli(platform, "ingest", "clickstream")
    cli(platform, "process", "clickstream")
    return dbt(platform, "build", *EVENTS, *SCOPED, check=False)


def test_the_daily_build_checks_the_event_dates_it_rebuilt(platform, old_duplicate, clickstream_day):
    assert clickstream_day.returncode == 0, clickstream_day.stdout[-3000:]
    assert failures(platform, SESSIONIZED_UNIQUE) == 0
    first_date = first_date_rebuilt(platform)
    oldest, newest_landed = warehouse(
        platform,
        "select min(event_date), max(landed_date) from main.stg_clickstream__events",
    )[0]
    # The day's events (the newest landing day) lie on or after the first date rebuilt,
    # the old duplicate before it.
    days_events = warehouse(
        platform,
        "select count(*), min(event_date) from main.stg_clickstream__events "
        f"where landed_date = date '{newest_landed}'",
    )[0]
    assert days_events[0] > 0
    assert str(oldest) < first_date <= str(days_events[1])
    copies = warehouse(
        platform, f"select count(*) from main.int_clickstream_events_sessionized where event_id = '{old_duplicate}'"
    )
    assert copies == [(2,)]


def test_the_full_test_run_catches_the_old_duplicate(platform, clickstream_day):
    proc = dbt(platform, "test", "--select", "int_clickstream_events_sessionized", check=False)
    assert proc.returncode != 0, "the full run should fail on the old duplicate"
    assert failures(platform, SESSIONIZED_UNIQUE) == 1


def test_the_daily_build_catches_a_duplicate_in_the_lake_of_its_dates(platform, clickstream_day):
    lake = Path(platform["DATA_DIR"]) / "lake" / "processed" / "clickstream"
    newest = max(lake.glob("event_date=*"))
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from read_parquet('{newest}/*.parquet', hive_partitioning = false) limit 1) "
            f"to '{newest}/a-second-copy.parquet' (format parquet)"
        )
    proc = dbt(platform, "build", *EVENTS, *SCOPED, check=False)
    assert proc.returncode != 0, "the daily build passed over a duplicate event in its dates"
    assert first_date_rebuilt(platform) <= newest.name.split("=")[1]
    assert failures(platform, LAKE_SOURCE_UNIQUE) == 1
    # The source's test failed, so the build stopped before the models that read it.
    statuses = {r["unique_id"]: r["status"] for r in run_results(platform)}
    assert statuses["model.marketplace.int_clickstream_events_sessionized"] == "skipped"
    # The staging view's own scoped test, run alone, finds it too.
    proc = dbt(platform, "test", "--select", "stg_clickstream__events", *SCOPED, check=False)
    assert proc.returncode != 0
    assert failures(platform, LAKE_STAGING_UNIQUE) == 1


# The singular reconciliation test checks the orders a run wrote, or whose lines it wrote.
REVENUE = [
    "--select",
    "fct_order_lines",
    "fct_orders",
    "assert_order_net_revenue_equals_sum_of_lines",
    "--indirect-selection",
    "cautious",
]
REVENUE_TEST = "assert_order_net_revenue_equals_sum_of_lines"


def scoped_build_over_a_wrong_old_row(env, table: str, key: str, old: int, wrong: str, selection) -> dict:
    """Make row ``old`` of ``table`` wrong in history (``wrong``, a SET clause), then build
    ``selection`` with the daily scope. Returns the old key, the first key and the number
    of rows the build wrote (``updated_at`` above the newest before it), and dbt's outcome."""
    warehouse(env, f"update main.{table} set {wrong} where {key} = {old}", read_only=False)
    boundary = warehouse(env, f"select max(updated_at) from main.{table}")[0][0]
    proc = dbt(env, "build", *selection, *SCOPED, check=False)
    new, written = warehouse(
        env, f"select min({key}), count(*) from main.{table} where updated_at > timestamp '{boundary}'"
    )[0]
    return {"old": old, "new": new, "written": written, "returncode": proc.returncode, "log": proc.stdout}


@pytest.fixture(scope="module")
def revenue_day(platform, daily_build) -> dict[str, int]:
    """An old order's revenue made wrong in history, then the day's marts built with the daily scope."""
    old_order = warehouse(platform, "select min(order_id) from main.fct_orders")[0][0]
    return scoped_build_over_a_wrong_old_row(
        platform, "fct_orders", "order_id", old_order, "net_revenue = net_revenue + 1", REVENUE
    )


def test_the_daily_build_checks_only_the_orders_it_wrote(platform, revenue_day):
    assert revenue_day["written"] > 0, "the day wrote no order"
    assert revenue_day["returncode"] == 0, revenue_day["log"][-3000:]
    assert failures(platform, REVENUE_TEST) == 0
    proc = dbt(platform, "test", "--select", REVENUE_TEST, check=False)
    assert proc.returncode != 0, "the full run should fail on the old order"
    assert failures(platform, REVENUE_TEST) == 1


def test_the_daily_test_catches_a_wrong_order_of_its_own(platform, revenue_day):
    warehouse(
        platform,
        f"update main.fct_order_lines set net_revenue = net_revenue + 1 where order_id = {revenue_day['new']}",
        read_only=False,
    )
    # `dbt test` keeps the boundaries of the last scoped build: this run's orders only.
    proc = dbt(platform, "test", "--select", REVENUE_TEST, *SCOPED, check=False)
    assert proc.returncode != 0
    assert failures(platform, REVENUE_TEST) == 1
    proc = dbt(platform, "test", "--select", REVENUE_TEST, check=False)
    assert failures(platform, REVENUE_TEST) == 2


# The customers' reconciliation checks the customers a run wrote, or whose orders it wrote.
# dim_customers is built after the revenue day's orders: the customers of those orders.
CUSTOMERS = [
    "--select",
    "dim_customers",
    "assert_customer_lifetime_value_equals_sum_of_orders",
    "--indirect-selection",
    "cautious",
]
CUSTOMERS_TEST = "assert_customer_lifetime_value_equals_sum_of_orders"


@pytest.fixture(scope="module")
def customers_day(platform, revenue_day) -> dict[str, int]:
    """An old customer's lifetime value made wrong in history, then the customers of the day's orders built."""
    old_customer = warehouse(platform, "select min(customer_id) from main.dim_customers where order_count > 0")[0][0]
    return scoped_build_over_a_wrong_old_row(
        platform, "dim_customers", "customer_id", old_customer, "lifetime_value = lifetime_value + 1", CUSTOMERS
    )


def lifetime_mismatches(env: dict[str, str]) -> set[int]:
    """Every customer whose order count or lifetime value differs from fct_orders, by the test's logic.

    (The revenue tests above left one old order wrong in fct_orders, so its customer is one.)
    """
    return {
        row[0]
        for row in warehouse(
            env,
            """
            select customers.customer_id
            from main.dim_customers as customers
            left join (
                select customer_id, count(*) as n, sum(net_revenue) as value from main.fct_orders group by 1
            ) as history on customers.customer_id = history.customer_id
            where customers.order_count != coalesce(history.n, 0)
                or customers.lifetime_value != coalesce(history.value, 0)
            """,
        )
    }


def test_the_daily_build_checks_only_the_customers_it_wrote(platform, customers_day):
    assert customers_day["written"] > 0, "the day wrote no customer"
    assert customers_day["new"] != customers_day["old"]
    assert customers_day["returncode"] == 0, customers_day["log"][-3000:]
    assert failures(platform, CUSTOMERS_TEST) == 0
    proc = dbt(platform, "test", "--select", CUSTOMERS_TEST, check=False)
    assert proc.returncode != 0, "the full run should fail on the old customer"
    wrong = lifetime_mismatches(platform)
    assert customers_day["old"] in wrong
    assert failures(platform, CUSTOMERS_TEST) == len(wrong)


def test_the_daily_test_catches_a_wrong_customer_of_its_own(platform, customers_day):
    warehouse(
        platform,
        f"update main.dim_customers set order_count = order_count + 1 where customer_id = {customers_day['new']}",
        read_only=False,
    )
    proc = dbt(platform, "test", "--select", CUSTOMERS_TEST, *SCOPED, check=False)
    assert proc.returncode != 0
    assert failures(platform, CUSTOMERS_TEST) == 1
    proc = dbt(platform, "test", "--select", CUSTOMERS_TEST, check=False)
    wrong = lifetime_mismatches(platform)
    assert {customers_day["old"], customers_day["new"]} <= wrong
    assert failures(platform, CUSTOMERS_TEST) == len(wrong)
