"""Full build time of the whole project per engine, as ratios to DuckDB in the same run.

``run(sf, workdir)`` simulates all four sources at ``sf`` once, loads them into the lake
(and processes the clickstream there) and into a throwaway PostgreSQL (warehouse-first,
as production loads Redshift), then times one full ``dbt build`` (every model and data
test, no unit tests) each on DuckDB (ci), PostgreSQL (pg) and Spark (spark, local mode).
``postgres_load_s`` is the warehouse-first load on its own (every pipeline, then the
processed clickstream); the lake's loading is the other suites' benchmark.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingestion.devservices import postgres

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BUILD = ("build", "--exclude-resource-type", "unit_test")
ENGINES = {"duckdb": ("ci", ()), "postgres": ("pg", ()), "spark": ("spark", ("--full-refresh",))}


def _env(data_dir: Path, sf: float, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LAKE_URL", "SHOP_DB_URL")}
    env.update(
        DATA_DIR=str(data_dir),
        SF=f"{sf:g}",
        DBT_PROFILES_DIR=str(ROOT / "profiles"),
        DBT_TARGET_PATH=str(data_dir / "target"),
        DBT_LOG_PATH=str(data_dir / "logs"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def run(sf: float, workdir: Path) -> dict:
    """Seconds per engine for one full build at ``sf``, and each engine's ratio to DuckDB."""
    data_dir = Path(workdir) / f"engines-sf{sf:g}"
    pg_dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))  # the postgres user must reach it
    server = postgres.start(pg_dir)
    try:
        postgres.create_database(server, "bench")
        pg = {"PG_PORT": str(server.port), "PG_DBNAME": "bench"}
        env = _env(data_dir, sf)
        pg_env = {**env, "DBT_TARGET": "pg", **pg}
        cli = str(BIN / "ingestion")
        _run([cli, "sources", "init", "--sf", f"{sf:g}"], env)
        _run([cli, "ingest", "all"], env)
        _run([cli, "process", "all"], env)
        load_s = _run([cli, "ingest", "all"], pg_env) + _run([cli, "process", "all"], pg_env)
        seconds = {}
        for engine, (target, flags) in ENGINES.items():
            seconds[engine] = _run([str(BIN / "dbt"), *BUILD, *flags], {**env, "DBT_TARGET": target, **pg})
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
