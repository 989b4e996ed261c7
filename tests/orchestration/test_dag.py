"""The DAG marketplace_daily through Airflow itself: its shape, one simulated day with
`airflow dags test` (no server), a failing task retried then failing the run, the re-run of
that day, and a missing setting stopping the run at its first task.

Everything runs in a temporary DATA_DIR and AIRFLOW_HOME (SQLite metadata) at SF 0.01.
"""

from __future__ import annotations

import json
import re
import sqlite3
import textwrap
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from marketplace.devenv import BIN, ROOT
from orchestration import daily
from simulator import payments_api as local_api
from tests.conftest import cli, dbt, platform_env, run
from tests.e2e.test_shop_reconciliation import reconcile

pytestmark = pytest.mark.e2e

DAG = daily.DAG_ID
# The runs build what the reconciliation reads (shop and payments marts and their parents),
# a third of the project: the shape test renders all of it.
SELECT = "+fct_daily_revenue +fct_order_lines +fct_payment_reconciliation"
# Prints the DAG's tasks, each with its upstream task ids, as JSON: DagBag parses the
# folder the way the scheduler does, in a process of its own (Airflow reads its
# configuration once per process).
SHAPE = textwrap.dedent(
    """
    import json, sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    dag = bag.dags.get(sys.argv[2])
    print(json.dumps({
        "errors": {k: str(v) for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dags),
        "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} if dag else {},
        "retries": {t.task_id: t.retries for t in dag.tasks} if dag else {},
    }))
    """
)


def airflow_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    return platform_env(
        data_dir,
        SF="0.01",
        AIRFLOW_HOME=str(data_dir / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "orchestration" / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        DAG_RETRY_DELAY_SECONDS="1",
        DAG_DBT_SELECT=SELECT,
        **overrides,
    )


def clock(env: dict[str, str]) -> date:
    out = cli(env, "simulate", "status").stdout
    return date.fromisoformat(next(line.split()[1] for line in out.splitlines() if line.split()[0] == "shop"))


def dag_test(env: dict[str, str], day: date, **overrides: str):
    return run([str(BIN / "airflow"), "dags", "test", DAG, day.isoformat()], {**env, **overrides}, check=False)


def task_states(env: dict[str, str], day: date) -> dict[str, tuple[str, int]]:
    """task_id → (state, try_number) in the latest run of ``day``, from Airflow's metadata database."""
    con = sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")
    rows = con.execute(
        """
        select task_id, state, try_number from task_instance
        where dag_id = ? and run_id = (
            select run_id from dag_run where dag_id = ? and date(logical_date) = ? order by id desc limit 1
        )
        """,
        [DAG, DAG, day.isoformat()],
    ).fetchall()
    con.close()
    return {task: (state, tries) for task, state, tries in rows}


def shape(folder: Path, env: dict[str, str]) -> dict:
    proc = run([str(BIN / "python"), "-c", SHAPE, str(folder), DAG], env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> dict[str, str]:
    """Simulated sources at SF 0.01, the dbt manifest the DAG renders from, Airflow's database."""
    env = airflow_env(tmp_path_factory.mktemp("airflow-platform"))
    cli(env, "simulate", "init", "--sf", "0.01")
    dbt(env, "parse", "--quiet")
    run([str(BIN / "airflow"), "db", "migrate"], env)
    return env


@pytest.fixture(scope="module")
def dag(platform) -> dict:
    found = shape(ROOT / "orchestration" / "dags", {**platform, "DAG_DBT_SELECT": ""})
    assert found["errors"] == {}
    return found


def manifest(env: dict[str, str]) -> dict:
    return json.loads((Path(env["DBT_TARGET_PATH"]) / "manifest.json").read_text())


def manifest_models(env: dict[str, str]) -> set[str]:
    return {n["name"] for n in manifest(env)["nodes"].values() if n["resource_type"] == "model"}


def model_and_parents(env: dict[str, str], name: str) -> set[str]:
    nodes = manifest(env)["nodes"]
    found, frontier = set(), [uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["name"] == name]
    while frontier:
        uid = frontier.pop()
        if uid in found or uid not in nodes or nodes[uid]["resource_type"] != "model":
            continue
        found.add(uid)
        frontier += nodes[uid]["depends_on"]["nodes"]
    return {nodes[uid]["name"] for uid in found}


def downstream_of(tasks: dict[str, list[str]], task_id: str) -> set[str]:
    """Every task that (transitively) waits for ``task_id``."""
    found, frontier = set(), {task_id}
    while frontier:
        frontier = {t for t, ups in tasks.items() if set(ups) & frontier} - found
        found |= frontier
    return found


def test_the_dag_runs_the_daily_cycle_in_order(dag, platform):
    tasks = dag["tasks"]
    ingest = {f"ingest_{source}" for source in daily.SOURCES}
    assert [t for t, ups in tasks.items() if not ups] == ["check_settings"]
    assert tasks["release_day"] == ["check_settings"]
    for task in ingest:
        assert tasks[task] == ["release_day"], "ingestion waits for nothing but the day's release"
    assert tasks["process_clickstream"] == ["ingest_clickstream"]
    dbt_tasks = {t for t in tasks if t.startswith("dbt.")}
    # one task per model, named for it, its tests inside (dbt build --select the model)
    models = manifest_models(platform)
    assert {t for t in dbt_tasks if t.endswith("_model_build")} == {f"dbt.{m}_model_build" for m in models}
    roots = {t for t in dbt_tasks if not set(tasks[t]) & dbt_tasks}
    for root in roots:
        assert set(tasks[root]) == (ingest - {"ingest_clickstream"}) | {"process_clickstream"}, root
    for upstream in (ingest - {"ingest_clickstream"}) | {"process_clickstream"}:
        assert dbt_tasks <= downstream_of(tasks, upstream), f"a dbt task does not wait for {upstream}"
    leaves = {t for t in dbt_tasks if not downstream_of(tasks, t) & dbt_tasks}
    assert set(tasks["source_freshness"]) == leaves
    assert tasks["publish"] == ["source_freshness"]
    # the settings check is not retried: a bad setting fails the run at once
    assert dag["retries"]["check_settings"] == 0
    assert dag["retries"]["ingest_payments"] == 2


def test_the_settings_shape_the_dag(platform):
    """Real sources: no release task; DAG_RETRIES; DAG_DBT_SELECT: the selected models only."""
    overrides = {"DAG_SIMULATED_SOURCES": "false", "DAG_RETRIES": "4", "DAG_DBT_SELECT": "+fct_orders"}
    found = shape(ROOT / "orchestration" / "dags", {**platform, **overrides})
    assert found["errors"] == {}
    assert "release_day" not in found["tasks"]
    assert {found["tasks"][f"ingest_{source}"][0] for source in daily.SOURCES} == {"check_settings"}
    assert found["retries"]["ingest_shop"] == 4
    built = {t.removeprefix("dbt.").removesuffix("_model_build") for t in found["tasks"] if t.endswith("_model_build")}
    assert built == model_and_parents(platform, "fct_orders")


def test_a_missing_setting_fails_the_first_task_naming_it(platform):
    day = clock(platform) - timedelta(days=30)  # a day whose run must not release anything
    proc = dag_test(platform, day, DBT_TARGET="redshift")
    assert proc.returncode != 0
    assert "REDSHIFT_HOST is not set: dbt target redshift needs it" in proc.stdout + proc.stderr
    states = task_states(platform, day)
    assert states.pop("check_settings") == ("failed", 1)
    assert {state for state, _ in states.values()} == {"upstream_failed"}


@pytest.fixture(scope="module")
def failed_then_rerun(platform) -> dict:
    """The next simulated day with the payments API down (retried, then the run fails), then again."""
    day = clock(platform) + timedelta(days=1)
    down = dag_test(
        platform,
        day,
        SOURCES__PAYMENTS__BASE_URL="http://127.0.0.1:9",  # the discard port: nothing answers
        SOURCES__PAYMENTS__TOKEN=local_api.LOCAL_TOKEN,
        DAG_RETRIES="1",
    )
    failed = task_states(platform, day)
    rerun = dag_test(platform, day)
    return {"day": day, "down": down, "failed": failed, "rerun": rerun, "done": task_states(platform, day)}


@pytest.mark.slow  # two `airflow dags test` runs of a whole day
def test_a_failing_task_is_retried_then_fails_the_run(failed_then_rerun):
    down, failed = failed_then_rerun["down"], failed_then_rerun["failed"]
    assert down.returncode != 0
    assert failed["ingest_payments"] == ("failed", 2), "tried twice (DAG_RETRIES=1), then failed"
    assert "127.0.0.1:9" in down.stdout + down.stderr, "the payments error is in the task's log"
    for source in ("shop", "partners", "clickstream"):
        assert failed[f"ingest_{source}"][0] == "success", "the other sources load regardless"
    assert {state for task, (state, _) in failed.items() if task.startswith("dbt.")} == {"upstream_failed"}


@pytest.mark.slow  # two `airflow dags test` runs of a whole day
def test_the_rerun_completes_the_day_and_the_marts_reconcile(failed_then_rerun, platform):
    rerun = failed_then_rerun["rerun"]
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-6000:]
    assert {state for state, _ in failed_then_rerun["done"].values()} == {"success"}
    assert clock(platform) == failed_then_rerun["day"], "the re-run released no second day"
    assert reconcile(platform) > 2000


@pytest.mark.slow  # two `airflow dags test` runs of a whole day
def test_the_rerun_duplicates_nothing(failed_then_rerun, platform):
    """Every key the project declares unique is unique in the warehouse after the re-run."""
    assert failed_then_rerun["rerun"].returncode == 0
    nodes = manifest(platform)["nodes"]
    built = set().union(*(model_and_parents(platform, name) for name in SELECT.replace("+", "").split()))
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model" and n["name"] in built}
    keys = {
        (models[n["attached_node"]]["name"], n["column_name"])
        for n in nodes.values()
        if n["resource_type"] == "test"
        and n.get("test_metadata", {}).get("name") == "unique"
        and n.get("attached_node") in models
        and models[n["attached_node"]]["config"]["materialized"] != "ephemeral"
        and re.fullmatch(r"\w+", n.get("column_name") or "")
    }
    assert {"fct_orders", "fct_order_lines", "stg_payments__charges"} <= {model for model, _ in keys}
    con = duckdb.connect(platform["DATA_DIR"] + "/warehouse.duckdb", read_only=True)
    try:
        for model, column in sorted(keys):
            schema = con.execute(
                "select table_schema from information_schema.tables where table_name = ?", [model]
            ).fetchone()[0]
            rows, distinct = con.execute(
                f'select count(*), count(distinct "{column}") from "{schema}"."{model}"'
            ).fetchone()
            assert rows == distinct, f"{model}.{column}: {rows - distinct} duplicates"
    finally:
        con.close()
