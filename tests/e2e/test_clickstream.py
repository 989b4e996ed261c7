"""The clickstream path end to end: simulate, process, build; then advance and build again."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import cli, dbt, platform_env

pytestmark = pytest.mark.e2e

WEB_MODELS = ("int_clickstream_events_sessionized", "fct_sessions", "fct_daily_funnel")


def _query(env: dict[str, str], sql: str) -> list[tuple]:
    con = duckdb.connect(str(Path(env["DATA_DIR"]) / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _tables(env: dict[str, str]) -> dict[str, list[tuple]]:
    return {name: sorted(_query(env, f"select * from {name}"), key=repr) for name in WEB_MODELS}


def test_web_marts_reconcile_and_tie_to_shop_orders(built_platform):
    env = built_platform
    broken = _query(env, """
        select count(*) from fct_clickstream_deliveries
        where delivered_count <> processed_count + quarantined_count + duplicate_count
            or stored_event_count <> processed_count
    """)  # fmt: skip
    assert broken == [(0,)]
    delivered, quarantined, duplicates = _query(env, """
        select sum(delivered_count), sum(quarantined_count), sum(duplicate_count)
        from fct_clickstream_deliveries
    """)[0]  # fmt: skip
    assert delivered > 0 and quarantined > 0 and duplicates > 0
    placed, matched = _query(env, """
        select count(*), count(orders.order_id)
        from stg_clickstream__events as events
        left join fct_orders as orders on events.order_id = orders.order_id
        where events.event_type = 'order_placed'
    """)[0]  # fmt: skip
    assert placed > 0 and placed == matched
    funnel = _query(env, "select sum(session_count), sum(order_session_count) from fct_daily_funnel")
    sessions, ordering = funnel[0]
    assert sessions > ordering > 0


@pytest.mark.slow  # two builds, a four-day advance between, then a full refresh: over a minute
def test_incremental_runs_after_advance_equal_a_full_rebuild(tmp_path):
    env = platform_env(tmp_path, SF="0.01")
    cli(env, "simulate", "init", "--sf", "0.01", "--cutoff", "1998-03-01")
    cli(env, "ingest", "all")
    first = cli(env, "process", "all").stdout
    assert "clickstream (duckdb)" in first
    dbt(env, "build")
    # Four days: late events of the history's last days land in these days' folders.
    cli(env, "simulate", "advance", "--days", "4")
    cli(env, "ingest", "all")
    second = cli(env, "process", "clickstream", "--engine", "duckdb").stdout
    assert " 0 files" not in second
    dbt(env, "build")
    incremental = _tables(env)
    late = _query(env, """
        select count(*) from stg_clickstream__events
        where landed_date > event_date and event_date < '1998-03-01'
            and landed_date > '1998-03-01'
    """)[0][0]  # fmt: skip
    assert late > 0
    dbt(env, "run", "--full-refresh", "--select", *WEB_MODELS)
    assert _tables(env) == incremental
