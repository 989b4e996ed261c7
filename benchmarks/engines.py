"""Full build time of the whole project per engine, as ratios to DuckDB in the same run.

``run(sf, workdir)`` simulates all four sources at ``sf`` once, loads them into the lake
(and processes the clickstream there) and into a throwaway PostgreSQL (warehouse-first,
as production loads Redshift), then times one full ``dbt build`` (every model and data
test, no unit tests) each on DuckDB (ci), PostgreSQL (pg) and Spark (spark, local mode).
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
ENGINES = {"duckdb": ("ci", ()), "postgres": ("pg", ()), "spark": ("spark", ("--full-refresh",))}


def run(sf: float, workdir: Path) -> dict:
    """Seconds per engine for one full build at ``sf``, and each engine's ratio to DuckDB."""
    data_dir = Path(workdir) / f"engines-sf{sf:g}"
    pg_dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # the postgres user must reach it
    server = postgres.start(pg_dir)
    try:
        postgres.create_database(server, "bench")
        pg = {"PG_PORT": str(server.port), "PG_DBNAME": "bench"}
        env = bench_env(data_dir, SF=f"{sf:g}")
        pg_env = {**env, "DBT_TARGET": "pg", **pg}
        cli = str(BIN / "marketplace")
        measure([cli, "simulate", "init", "--sf", f"{sf:g}"], env)
        measure([cli, "ingest", "all"], env)
        measure([cli, "process", "all"], env)
        load_s = sum(measure([cli, step, "all"], pg_env).seconds for step in ("ingest", "process"))
        seconds = {}
        for engine, (target, flags) in ENGINES.items():
            seconds[engine] = measure([str(BIN / "dbt"), *BUILD, *flags], {**env, "DBT_TARGET": target, **pg}).seconds
    finally:
        postgres.stop(pg_dir, remove=True)
    figures = {"sf": sf, "postgres_load_s": load_s}
    figures.update({f"{engine}_build_s": s for engine, s in seconds.items()})
    others = (engine for engine in seconds if engine != "duckdb")
    figures.update({f"{engine}_over_duckdb": seconds[engine] / seconds["duckdb"] for engine in others})
    return figures


if __name__ == "__main__":
    import json

    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 0.01, Path(tmp))))
