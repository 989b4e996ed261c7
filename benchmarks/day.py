"""The daily run: one released day ingested, processed and built, against the full build.

The whole platform (every source and mart) at one scale factor: init, ingest, process and
a full `dbt build` (`make build`: every test on every row); then `advance --days 1` and
the day's ingest, process and build as `make run` runs it (tests only on the rows the
run wrote, no unit tests). The same day's build is then repeated from the same warehouse
with every test on every row (`make run FULL=1`), to show what the scope saves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.harness import BIN, bench_env, measure

# What `make run` adds to `dbt build` (the Makefile's TESTS_SCOPE=run).
SCOPE = ["--vars", "{tests_scope: run}"]
DAILY = [*SCOPE, "--exclude-resource-type", "unit_test"]


def run(sf: float, workdir: Path) -> dict:
    data_dir = workdir / f"sf{sf:g}"
    env = bench_env(data_dir, SF=str(sf), TPCH_CACHE_DIR=str(data_dir / "cache"))
    cli, dbt = str(BIN / "marketplace"), str(BIN / "dbt")
    measure([cli, "simulate", "init", "--sf", str(sf)], env)
    measure([cli, "ingest", "all"], env)
    measure([cli, "process", "all"], env)
    full = measure([dbt, "build"], env)
    measure([cli, "simulate", "advance", "--days", "1"], env)
    ingest = measure([cli, "ingest", "all"], env)
    process = measure([cli, "process", "all"], env)
    warehouse = data_dir / "warehouse.duckdb"
    shutil.copy(warehouse, workdir / "before-day.duckdb")
    # A daily job runs with the same vars every day, so dbt parses only what changed: each
    # build below is timed after a parse with its own vars (a change of vars reparses all).
    measure([dbt, "parse", *SCOPE], env)
    day = measure([dbt, "build", *DAILY], env)
    shutil.copy(workdir / "before-day.duckdb", warehouse)
    measure([dbt, "parse"], env)
    day_all_tests = measure([dbt, "build"], env)
    return {
        "sf": sf,
        "full_build_s": full.seconds,
        "day_ingest_s": ingest.seconds,
        "day_process_s": process.seconds,
        "day_build_s": day.seconds,
        "day_build_peak_mib": day.peak_mib,
        "day_run_s": ingest.seconds + process.seconds + day.seconds,
        "day_build_all_tests_s": day_all_tests.seconds,
        "day_vs_full_build": day.seconds / full.seconds,
        "day_all_tests_vs_full_build": day_all_tests.seconds / full.seconds,
    }


if __name__ == "__main__":
    import json
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 0.01, Path(tmp))))
