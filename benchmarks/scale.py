"""How cost grows with SF: every stage of `make demo` and of one day's `make run`, timed,
with its peak memory and the disk it leaves, for docs/benchmarks.md ("How cost grows").

    python -m benchmarks.scale --sf 10 --data-dir /a/disk/with/room [--keep]

Not part of `make bench` (SF 10 takes about an hour on 2 cores). Each stage is the command
`make demo` / `make run` runs, one process at a time, measured as `make bench` measures
(wall time; the largest resident set of the process and its children). After the full
build the marts are reconciled day by day with the shop database, as the e2e tests do.
Prints one JSON object per stage as it ends, then the summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.day import DAILY
from benchmarks.harness import BIN, bench_env, measure
from ingestion.settings import load_settings

SOURCES = ("shop", "payments", "partners", "clickstream")


def du(path: Path) -> int:
    """Bytes under ``path`` as `du -sb` counts them (0 when it does not exist)."""
    if not path.exists():
        return 0
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def disk(data_dir: Path) -> dict[str, int]:
    """Bytes per part of DATA_DIR, the parts simulator/footprint.py estimates."""
    sources = data_dir / "sources"
    cache = sum(du(p) for p in sources.glob("tpch_*"))
    parts = {
        "sources_mib": du(sources) - cache,
        "tpch_cache_mib": cache,
        "lake_mib": du(data_dir / "lake"),
        "warehouse_mib": sum(du(p) for p in data_dir.glob("warehouse.duckdb*")),
        "dlt_mib": du(data_dir / "dlt"),
    }
    parts["total_mib"] = du(data_dir)
    return {k: round(v / 1024**2) for k, v in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, required=True)
    parser.add_argument("--data-dir", type=Path, required=True, help="an empty or missing folder")
    parser.add_argument("--keep", action="store_true", help="keep DATA_DIR afterwards")
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    if data_dir.exists() and any(data_dir.iterdir()):
        raise SystemExit(f"{data_dir} is not empty")
    env = bench_env(data_dir, SF=f"{args.sf:g}", DBT_TARGET="dev")
    cli, dbt = str(BIN / "marketplace"), str(BIN / "dbt")
    stages: dict[str, dict] = {}

    def stage(name: str, command: list[str]) -> None:
        measured = measure(command, env)
        stages[name] = {"s": round(measured.seconds, 1), "peak_mib": round(measured.peak_mib)}
        print(json.dumps({"stage": name, **stages[name]}), flush=True)

    started = time.monotonic()
    stage("simulate", [cli, "simulate", "init", "--sf", f"{args.sf:g}"])
    for source in SOURCES:
        stage(f"ingest {source}", [cli, "ingest", source])
    stage("process", [cli, "process", "all"])
    stage("build", [dbt, "build"])  # every test on every row, as `make run FULL=1`
    from tests.e2e.test_shop_reconciliation import reconcile  # the e2e tests' own check

    reconciled = time.monotonic()
    days = reconcile(env)
    print(json.dumps({"stage": "reconcile", "days": days, "s": round(time.monotonic() - reconciled, 1)}), flush=True)
    footprint = disk(data_dir)
    print(json.dumps({"stage": "disk", **footprint}), flush=True)
    stage("advance", [cli, "simulate", "advance", "--days", "1"])
    stage("day ingest", [cli, "ingest", "all"])
    stage("day process", [cli, "process", "all"])
    stage("day build", [dbt, "build", *DAILY])  # as `make run` builds
    days_after = reconcile(env)
    summary = {
        "sf": args.sf,
        "stages": stages,
        "reconciled_days": [days, days_after],
        "disk": footprint,
        "first_run_s": round(sum(v["s"] for k, v in stages.items() if not k.startswith(("day", "advance"))), 1),
        "day_run_s": round(sum(v["s"] for k, v in stages.items() if k.startswith("day ")), 1),
        "peak_mib": max(v["peak_mib"] for v in stages.values()),
        "wall_s": round(time.monotonic() - started, 1),
        "duckdb_memory_limit": load_settings().duckdb_memory_limit,
    }
    print(json.dumps(summary, indent=1))
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
