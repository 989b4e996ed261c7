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


def failures(env: dict[str, str], test_name: str) -> int:
    results = json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]
    found = [r for r in results if r["unique_id"].startswith(f"test.marketplace.{test_name}.")]
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
