"""A backfill through the DAG equals one full build: two simulated days, each run by
`airflow dags test` after the other (what `airflow backfill` schedules), leave the same
marts as a `--full-refresh` build of the same data, row for row.

Slow: two whole DAG runs (the shop and payments marts and their parents) and a build.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from marketplace.devenv import BIN
from tests.conftest import cli, dbt, run
from tests.e2e.test_shop_reconciliation import assert_same_marts, reconcile
from tests.orchestration.test_dag import SELECT, airflow_env, clock, dag_test, task_states

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    env = airflow_env(tmp_path_factory.mktemp("backfill"))
    cli(env, "simulate", "init", "--sf", "0.01")
    dbt(env, "parse", "--quiet")
    run([str(BIN / "airflow"), "db", "migrate"], env)
    start = clock(env)
    days = [start + timedelta(days=n) for n in (1, 2)]
    runs = [dag_test(env, day) for day in days]
    return {"env": env, "start": start, "days": days, "runs": runs}


def test_each_day_of_the_backfill_runs_and_releases_its_own_day(backfilled):
    env = backfilled["env"]
    for day, proc in zip(backfilled["days"], backfilled["runs"], strict=True):
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
        assert {state for state, _ in task_states(env, day).values()} == {"success"}, day
    assert clock(env) == backfilled["days"][-1], "two runs, two simulated days released"
    assert reconcile(env) > 2000


def test_the_backfill_equals_one_full_build(backfilled, tmp_path):
    env = backfilled["env"]
    assert all(proc.returncode == 0 for proc in backfilled["runs"])
    warehouse = f"{env['DATA_DIR']}/warehouse.duckdb"
    daily = tmp_path / "daily.duckdb"
    shutil.copy(warehouse, daily)
    dbt(env, "build", "--full-refresh", "--select", *SELECT.split(), "--indirect-selection", "cautious")
    counts = assert_same_marts(
        daily, warehouse, {"fct_orders", "fct_order_lines", "fct_daily_revenue", "fct_payment_reconciliation"}
    )
    assert all(counts.values()), f"empty marts: {[t for t, n in counts.items() if not n]}"
