"""Late data (issue 13, scenario 4): each source delivers something about a day already built.

One SF 0.01 platform: history up to 1998-03-01, ingested, processed and built; one simulated day
passes, then, for real, in the sources:

- clickstream events of a week ago arrive in today's landing folder: one joins a visit
  already built, three make a new visit (further back than the web models' lookback);
- an order of ten days ago is corrected in the shop database: one line's quantity and price,
  and the order's total, with ``updated_at`` bumped to today (the cursor the shop
  pipeline reads);
- a charge of 14 days ago is refunded in the payments provider's store today (the
  refund's ``created`` and the charge's ``updated`` are today's, its ``created`` is old).

Then one ``make run`` (ingest, process, dbt build with the daily run-scoped tests). Its
marts must show every late value, reconcile with the sources, and equal, row for row, a
``dbt build --full-refresh`` of a copy of the same DATA_DIR.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
import time
import uuid
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingestion import pipelines
from marketplace import demo
from processing import clickstream as clickstream_job
from processing.clickstream import contract
from simulator import advance_sources, init_sources, payments
from tests.conftest import dbt, platform_env, platform_settings, run
from tests.e2e.test_shop_reconciliation import assert_same_marts, reconcile

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUTOFF = date(1998, 3, 1)  # two months of web history: the clickstream is the slow part
LATE_DAYS = 7  # the late events are a week old
ORDER_DAYS = 10  # the corrected order is older (another day, so that each late value has its own day)
REFUND_DAYS = 14  # the refunded charge is two weeks old
REFUND_CENTS = 1234
MARTS = {
    "fct_orders",
    "fct_order_lines",
    "fct_daily_revenue",
    "fct_daily_cash_revenue",
    "fct_payment_reconciliation",
    "fct_sessions",
    "fct_daily_funnel",
}
FINISHED = re.compile(r"Finished running .*\(([0-9.]+)s\)")


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def dbt_seconds(output: str) -> float:
    """The seconds dbt itself reports for its (first) command in ``output``."""
    found = FINISHED.search(output)
    assert found, "no dbt summary line in the output"
    return float(found.group(1))


# -- what is injected ------------------------------------------------------------------------
def deliver_late_events(lake_url: str, data_dir: Path, today: date, late: date) -> dict:
    """Events of ``late`` in a landing file of today's 09:00 folder, as a second Firehose stream."""
    # A visit of that day whose visitor has no other visit within an hour either side: a
    # product view one minute after its last event joins it and nothing else.
    visit = query(
        data_dir,
        """
        with visits as (
            select *,
                lag(session_ended_at) over (partition by visitor_id order by session_started_at) as previous_end,
                lead(session_started_at) over (partition by visitor_id order by session_started_at) as next_start
            from fct_sessions
        )
        select session_id, visitor_id, customer_id, device, session_ended_at, event_count
        from visits
        where session_date = ? and cast(session_ended_at as date) = ?
            and hour(session_ended_at) < 20
            and (previous_end is null or previous_end < session_started_at - interval 1 hour)
            and (next_start is null or next_start > session_ended_at + interval 1 hour)
        order by session_id
        limit 1
        """,
        [late, late],
    )[0]
    session_id, visitor, customer, device, ended_at, event_count = visit

    def event(event_type: str, at: datetime, **extra) -> dict:
        return {
            "event_id": uuid.uuid4().hex,
            "event_type": event_type,
            "event_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "device": device,
            **extra,
        }

    joining = event(
        "product_view", ended_at + timedelta(minutes=1), visitor_id=visitor, customer_id=customer, part_id=1
    )
    new_visitor = f"a{uuid.uuid4().int % 16**12:012x}"
    start = datetime.combine(late, datetime.min.time()) + timedelta(hours=21)
    new_visit = [
        event("page_view", start, visitor_id=new_visitor, page_url="/deals"),
        event("product_view", start + timedelta(minutes=1), visitor_id=new_visitor, part_id=2),
        event("add_to_cart", start + timedelta(minutes=2), visitor_id=new_visitor, part_id=2),
    ]
    hour = datetime.combine(today, datetime.min.time()) + timedelta(hours=9)
    path = (
        Path(contract.paths(lake_url)["landing"])
        / f"{hour:%Y/%m/%d/%H}"
        / f"clickstream-late-{hour:%Y-%m-%d-%H}.json.gz"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(e, separators=(",", ":")) for e in (joining, *new_visit)]
    path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode()))
    return {
        "file": path,
        "event_ids": [e["event_id"] for e in (joining, *new_visit)],
        "joined_session": session_id,
        "joined_event_count": event_count,
        "new_visitor": new_visitor,
    }


def correct_an_order(shop_db: Path, today: date, day: date) -> dict:
    """One more unit on the first line of an order of ``day``; its total follows."""
    stamp = f"{today.isoformat()} 12:00:00"
    with closing(sqlite3.connect(shop_db)) as con, con:
        order_id, line_number, quantity, price = con.execute(
            "select l_orderkey, l_linenumber, l_quantity, l_extendedprice from lineitem"
            " join orders on o_orderkey = l_orderkey where o_orderdate = ? order by l_orderkey, l_linenumber limit 1",
            [day.isoformat()],
        ).fetchone()
        unit = Decimal(str(price)) / Decimal(str(quantity))
        new_price = (unit * (Decimal(str(quantity)) + 1)).quantize(Decimal("0.01"))
        added = new_price - Decimal(str(price))
        con.execute(
            "update lineitem set l_quantity = l_quantity + 1, l_extendedprice = ?, updated_at = ?"
            " where l_orderkey = ? and l_linenumber = ?",
            [float(new_price), stamp, order_id, line_number],
        )
        con.execute(
            "update orders set o_totalprice = round(o_totalprice + ?, 2), updated_at = ? where o_orderkey = ?",
            [float(added), stamp, order_id],
        )
        total = con.execute("select o_totalprice from orders where o_orderkey = ?", [order_id]).fetchone()[0]
    return {
        "order_id": order_id,
        "line_number": line_number,
        "quantity": int(quantity) + 1,
        "extended_price": new_price,
        "total_price": Decimal(str(total)).quantize(Decimal("0.01")),
        "added": added,
        "day": day,
    }


def refund_an_old_charge(store: Path, today: date) -> dict:
    """A refund today of a succeeded, never refunded charge of ``REFUND_DAYS`` ago."""
    created = int(datetime.combine(today, datetime.min.time(), UTC).timestamp()) + 10 * 3600
    charge_day = today - timedelta(days=REFUND_DAYS)
    with closing(payments.connect_store(store)) as con:
        charge_id, order_id = con.execute(
            "select id, order_id from charges where day = ? and status = 'succeeded' and amount_refunded = 0"
            " and amount > ? order by id limit 1",
            [charge_day.isoformat(), REFUND_CENTS],
        ).fetchone()
        refund_id = f"re_late_{order_id}"
        con.execute("begin immediate")
        con.execute(
            "insert into refunds values (?, ?, ?, 'requested_by_customer', 'succeeded', ?, ?)",
            [refund_id, charge_id, REFUND_CENTS, created, today.isoformat()],
        )
        con.execute(
            "update charges set amount_refunded = amount_refunded + ?, updated = ? where id = ?",
            [REFUND_CENTS, created, charge_id],
        )
        con.execute("commit")
    return {"refund_id": refund_id, "charge_id": charge_id, "order_id": order_id, "charge_day": charge_day}


# -- the journey ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def journey(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("late-data")
    data_dir = root / "data"
    env = platform_env(data_dir, SF="0.01")
    settings = platform_settings(data_dir, SF="0.01")
    init_sources(settings, CUTOFF)
    # Day N, built as `make run` would, in this process and without its tests (faster).
    for name in pipelines.PIPELINES:
        demo.run_pipeline(name, settings)
    clickstream_job.run(settings)
    dbt(env, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    today = advance_sources(settings, 1).clock()
    late, order_day = today - timedelta(days=LATE_DAYS), today - timedelta(days=ORDER_DAYS)
    before = {
        "funnel": query(data_dir, "select session_count from fct_daily_funnel where session_date = ?", [late])[0][0],
        "revenue": query(
            data_dir, "select sum(extended_price) from fct_daily_revenue where order_date = ?", [order_day]
        )[0][0],
    }
    events = deliver_late_events(settings.lake_url, data_dir, today, late)
    order = correct_an_order(settings.sources_dir / "shop.db", today, order_day)
    refund = refund_an_old_charge(payments.store_path(settings.sources_dir), today)

    started = time.perf_counter()
    incremental = run(["make", "run"], env)
    incremental_s = time.perf_counter() - started

    rebuilt_dir = root / "full-refresh"
    shutil.copytree(data_dir, rebuilt_dir, ignore=shutil.ignore_patterns(".marketplace.lock"))
    started = time.perf_counter()
    full = dbt(platform_env(rebuilt_dir, SF="0.01"), "build", "--full-refresh")
    full_s = time.perf_counter() - started
    timings = {
        "make run (s)": round(incremental_s, 1),
        "its dbt build (s)": dbt_seconds(incremental.stdout),
        "dbt build --full-refresh (s)": round(full_s, 1),
        "its dbt (s)": dbt_seconds(full.stdout),
    }
    print(f"\nlate data: {timings}")
    return {
        "env": env,
        "settings": settings,
        "data_dir": data_dir,
        "rebuilt_dir": rebuilt_dir,
        "today": today,
        "late": late,
        "before": before,
        "events": events,
        "order": order,
        "refund": refund,
        "timings": timings,
    }


# -- clickstream ----------------------------------------------------------------------------
def test_late_events_are_processed_into_their_own_day(journey):
    events = journey["events"]
    ids = events["event_ids"]
    rows = query(
        journey["data_dir"],
        "select event_date, landed_date, count(*) from stg_clickstream__events"
        f" where event_id in ({', '.join('?' * len(ids))}) group by all",
        ids,
    )
    assert rows == [(journey["late"], journey["today"], len(ids))]


def test_a_late_event_joins_the_visit_it_belongs_to(journey):
    events = journey["events"]
    (count,) = query(
        journey["data_dir"],
        "select event_count from fct_sessions where session_id = ?",
        [events["joined_session"]],
    )[0]
    assert count == events["joined_event_count"] + 1


def test_late_events_make_a_new_visit_and_count_in_that_days_funnel(journey):
    late, data_dir = journey["late"], journey["data_dir"]
    visits = query(
        data_dir,
        "select session_date, event_count, has_add_to_cart from fct_sessions where visitor_id = ?",
        [journey["events"]["new_visitor"]],
    )
    assert visits == [(late, 3, True)]
    funnel, sessions = query(
        data_dir,
        "select (select session_count from fct_daily_funnel where session_date = $1),"
        " (select count(*) from fct_sessions where session_date = $1)",
        [late],
    )[0]
    assert funnel == sessions == journey["before"]["funnel"] + 1


# -- shop ------------------------------------------------------------------------------------
def test_the_corrected_order_shows_in_the_order_marts(journey):
    order, data_dir = journey["order"], journey["data_dir"]
    line = query(
        data_dir,
        "select quantity, extended_price from fct_order_lines where order_id = ? and line_number = ?",
        [order["order_id"], order["line_number"]],
    )
    assert line == [(order["quantity"], order["extended_price"])]
    total = query(data_dir, "select total_price from fct_orders where order_id = ?", [order["order_id"]])
    assert total == [(order["total_price"],)]
    (revenue,) = query(
        data_dir, "select sum(extended_price) from fct_daily_revenue where order_date = ?", [order["day"]]
    )[0]
    assert order["added"] > 0 and revenue == journey["before"]["revenue"] + order["added"]


def test_the_order_marts_reconcile_with_the_shop_day_by_day(journey):
    assert reconcile(journey["env"]) > 2000


# -- payments --------------------------------------------------------------------------------
def test_the_late_refund_counts_on_its_own_day_and_against_its_order(journey):
    refund, data_dir = journey["refund"], journey["data_dir"]
    staged = query(
        data_dir,
        "select charge_id, amount_cents, created_date from stg_payments__refunds where refund_id = ?",
        [refund["refund_id"]],
    )
    assert staged == [(refund["charge_id"], REFUND_CENTS, journey["today"])]
    refunded = query(
        data_dir,
        "select refund_count, refunded_amount * 100 from fct_payment_reconciliation where order_id = ?",
        [refund["order_id"]],
    )
    assert refunded == [(1, REFUND_CENTS)]


def test_cash_in_the_marts_equals_the_providers_totals(journey):
    totals = payments.totals(payments.store_path(journey["settings"].sources_dir))
    daily = query(
        journey["data_dir"],
        "select sum(refund_count), sum(refunded_amount) * 100, sum(net_cash_amount) * 100 from fct_daily_cash_revenue",
    )[0]
    assert tuple(int(v) for v in daily) == (totals["refund_count"], totals["refunded_amount"], totals["net_amount"])
    (on_today,) = query(
        journey["data_dir"],
        "select refunded_amount * 100 from fct_daily_cash_revenue where revenue_date = ?",
        [journey["today"]],
    )[0]
    assert on_today >= REFUND_CENTS


# -- the property ----------------------------------------------------------------------------
def test_the_incremental_run_equals_a_full_refresh_of_the_same_data(journey):
    counts = assert_same_marts(
        journey["rebuilt_dir"] / "warehouse.duckdb", str(journey["data_dir"] / "warehouse.duckdb"), MARTS
    )
    assert all(counts[mart] > 0 for mart in MARTS)
