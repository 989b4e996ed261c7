"""Full build and one day's incremental build of the whole project per engine, as ratios to DuckDB.

``run(sf, workdir)`` simulates all four sources at ``sf`` once, loads them into the lake
(and processes the clickstream there) and into a throwaway PostgreSQL (warehouse-first,
as production loads Redshift), then times one full ``dbt build`` (every model and data
test, no unit tests) each on DuckDB (ci), PostgreSQL (pg) and Spark (spark, local mode).
Then one more day is released and loaded into both, and each engine's incremental
build of it is timed as ``make run`` runs it (data tests on the run's rows only):
``<engine>_day_s``, on Spark an ``insert_overwrite`` of the months and days it touches.
``postgres_load_s`` is the warehouse-first load on its own (every pipeline, then the
processed clickstream); the lake's loading is the other suites' benchmark.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.harness import BIN, bench_env, measure
from ingestion.devservices import postgres

BUILD = ("build", "--exclude-resource-type", "unit_test")
DAY = ("--vars", "{tests_scope: run}")
ENGINES = {"duckdb": "ci", "postgres": "pg", "spark": "spark"}


def run(sf: float, workdir: Path) -> dict:
    """Seconds per engine for one full build and one day's build at ``sf``, and ratios to DuckDB."""
    data_dir = Path(workdir) / f"engines-sf{sf:g}"
    pg_dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # the postgres user must reach it
    server = postgres.start(pg_dir)
    try:
        postgres.create_database(server, "bench")
        pg = {"PG_PORT": str(server.port), "PG_DBNAME": "bench"}
        env = bench_env(data_dir, SF=f"{sf:g}")
        pg_env = {**env, "DBT_TARGET": "pg", **pg}
        cli, dbt = str(BIN / "marketplace"), str(BIN / "dbt")
        measure([cli, "simulate", "init", "--sf", f"{sf:g}"], env)
        measure([cli, "ingest", "all"], env)
        measure([cli, "process", "all"], env)
        load_s = sum(measure([cli, step, "all"], pg_env).seconds for step in ("ingest", "process"))
        seconds = {}
        for engine, target in ENGINES.items():
            seconds[f"{engine}_build_s"] = measure([dbt, *BUILD], {**env, "DBT_TARGET": target, **pg}).seconds
        measure([cli, "simulate", "advance", "--days", "1"], env)
        for load_env in (env, pg_env):
            for step in ("ingest", "process"):
                measure([cli, step, "all"], load_env)
        for engine, target in ENGINES.items():
            seconds[f"{engine}_day_s"] = measure([dbt, *BUILD, *DAY], {**env, "DBT_TARGET": target, **pg}).seconds
    finally:
        postgres.stop(pg_dir, remove=True)
    figures = {"sf": sf, "postgres_load_s": load_s, **seconds}
    for engine in ENGINES:
        if engine != "duckdb":
            figures[f"{engine}_over_duckdb"] = seconds[f"{engine}_build_s"] / seconds["duckdb_build_s"]
            figures[f"{engine}_day_over_duckdb"] = seconds[f"{engine}_day_s"] / seconds["duckdb_day_s"]
    return figures


if __name__ == "__main__":
    import json

    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 0.01, Path(tmp))))
