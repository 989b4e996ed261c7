"""marketplace_daily: the daily cycle of `make run` as an Airflow DAG (Airflow 3, MWAA-compatible).

    check_settings → [release_day] → ingest_<source> (in parallel) ─────────────┐
                                     ingest_clickstream → process_clickstream ──┴→ dbt → source_freshness → publish

``dbt`` is the dbt project rendered by astronomer-cosmos from its manifest: one task per
seed, snapshot and model, each model's tests right after it, so a failed test stops its
children and a retry reruns one model. ``release_day`` exists only while the sources are
simulated (DAG_SIMULATED_SOURCES=true): it releases the run's day in the simulator, so a
run, or each day of a backfill, is one simulated day; a re-run of a day releases nothing
more. The tasks read the same settings as the CLI, from the worker's environment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

from ingestion.errors import PlatformError
from orchestration import daily

settings = daily.dag_settings()
project_dir = daily.dbt_project_dir()
dbt = daily.executable("dbt")
selected = list(settings.dag_dbt_select)
# The tasks' `python -m marketplace` finds the platform's packages where this DAG found them.
# Tasks that write to DATA_DIR take its lock (marketplace/lock.py); those of one run that
# the scheduler starts together queue for it rather than fail at once.
task_env = {"PYTHONPATH": str(daily.CODE_ROOT), "LOCK_WAIT_SECONDS": f"{max(settings.lock_wait_seconds, 3600):g}"}


def check_settings() -> str:
    """Fail the run here, without retries, when a setting is missing or invalid."""
    try:
        return daily.check_settings(project_dir)
    except PlatformError as exc:
        raise AirflowFailException(str(exc)) from None


with DAG(
    dag_id=daily.DAG_ID,
    description="Ingest every source, process the clickstream, dbt build and test, freshness, publish",
    # The simulated clock moves when a run releases its day, never with the wall clock:
    # its runs are triggered or backfilled over the simulated calendar (TPC-H's 1992-1998).
    # Real sources load what is new each day, so a missed day needs no catch-up run.
    schedule="@daily",
    start_date=datetime(1992, 1, 2) if settings.dag_simulated_sources else datetime(2025, 1, 1),
    end_date=datetime(1998, 12, 31) if settings.dag_simulated_sources else None,
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1 if settings.dbt_target in daily.SINGLE_WRITER_TARGETS else 8,
    default_args={
        "retries": settings.dag_retries,
        "retry_delay": timedelta(seconds=settings.dag_retry_delay_seconds),
    },
    tags=["marketplace"],
    doc_md=__doc__,
) as dag:
    check = PythonOperator(task_id="check_settings", python_callable=check_settings, retries=0)

    start = check
    if settings.dag_simulated_sources:
        start = BashOperator(
            task_id="release_day",
            bash_command=daily.cli("simulate", "advance", "--to", "{{ ds }}"),
            env=task_env,
            append_env=True,
        )
        check >> start

    ingest = {
        source: BashOperator(
            task_id=f"ingest_{source}",
            bash_command=daily.cli("ingest", source),
            env=task_env,
            append_env=True,
        )
        for source in daily.SOURCES
    }
    process = BashOperator(
        task_id="process_clickstream",
        bash_command=daily.cli("process", "clickstream"),
        env=task_env,
        append_env=True,
    )

    build = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=project_dir,
            manifest_path=daily.manifest_path(settings, project_dir),
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="marketplace",
            target_name=settings.dbt_target,
            profiles_yml_filepath=daily.profiles_yml(project_dir),
        ),
        # A dbt process per task: dbt's runner inside the task's own process would hold the
        # DuckDB warehouse's lock for as long as that process lives (all of `airflow dags test`).
        execution_config=ExecutionConfig(
            dbt_executable_path=dbt,
            invocation_mode=InvocationMode.SUBPROCESS,
            test_indirect_selection=TestIndirectSelection.BUILDABLE if selected else TestIndirectSelection.EAGER,
        ),
        # The whole project: a test on two models (a relationship) runs as its own task once
        # both are built. A selection (DAG_DBT_SELECT) may leave one of them out, so there
        # such a test runs with its model when the other is one of that model's parents.
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=selected,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=not selected,
        ),
        # Each task runs dbt in its own copy of the project: its artifacts (and the partial
        # parse, which remembers the copy's path) stay in that copy, not in DBT_TARGET_PATH.
        operator_args={"env": {"DBT_TARGET_PATH": "target", "DBT_LOG_PATH": "logs"}},
    )

    freshness = BashOperator(
        task_id="source_freshness",
        bash_command=f"{dbt} source freshness --project-dir {project_dir} --profiles-dir {project_dir / 'profiles'}",
        cwd=str(project_dir),
    )
    publish = BashOperator(
        task_id="publish",
        bash_command=daily.cli("report"),
        env=task_env,
        append_env=True,
    )

    start >> list(ingest.values())
    ingest["clickstream"] >> process
    [*(task for name, task in ingest.items() if name != "clickstream"), process] >> build
    build >> freshness >> publish
