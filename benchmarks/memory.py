"""Issue 13's scenario 9 at full size: process and build under a small DuckDB memory limit
and compare with a run without it (for docs/reliability.md; not a test).

    python -m benchmarks.memory --platform DATA_DIR --limit 1GB --workdir /a/disk/with/room

``--platform`` is an ingested DATA_DIR (for example one `python -m benchmarks.scale --sf 1
--keep` left). Its raw and landing zones are hard-linked into two copies; in each the
clickstream job and a full `dbt build` run again, one under the default
DUCKDB_MEMORY_LIMIT and one under ``--limit`` (spilling to DUCKDB_TEMP_DIRECTORY). Then
the processed, quarantine and audit zones and every fct_/dim_ table must be equal row for
row (`tests/reliability/test_memory.py` proves the same at SF 0.01 in `make test`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

from benchmarks.harness import BIN, bench_env, measure
from benchmarks.scale import du
from processing.clickstream import contract
from tests.e2e.test_shop_reconciliation import assert_same_marts
from tests.reliability.test_crash_mid_transform import ZONES, assert_same_zone
from tests.reliability.test_memory import SpillWatch


def copy_ingested(platform: Path, data: Path) -> None:
    """The platform's sources and ingested lake, hard-linked; processed output left behind."""
    data.mkdir(parents=True)
    for part in ("sources", "lake", "dlt"):
        subprocess.run(["cp", "-al", str(platform / part), str(data / part)], check=True)
    shutil.rmtree(contract.paths(str(data / "lake"))["processed"])
    shutil.rmtree(contract.paths(str(data / "lake"))["quarantine"])
    shutil.rmtree(contract.paths(str(data / "lake"))["audit"])


def arm(platform: Path, data: Path, sf: str, limit: str | None) -> dict:
    copy_ingested(platform, data)
    spill = data / "spill"
    env = bench_env(data, SF=sf, DBT_TARGET="dev", DUCKDB_TEMP_DIRECTORY=str(spill))
    if limit:
        env["DUCKDB_MEMORY_LIMIT"] = limit
    figures = {"memory_limit": limit or "default"}
    for name, command in (
        ("process", [str(BIN / "marketplace"), "process", "clickstream", "--engine", "duckdb"]),
        ("build", [str(BIN / "dbt"), "build"]),
    ):
        with SpillWatch(spill, every=0.2) as watch:
            measured = measure(command, env)
        figures |= {f"{name}_s": round(measured.seconds, 1), f"{name}_peak_mib": round(measured.peak_mib)}
        figures[f"{name}_spill_peak_mib"] = round(watch.peak_bytes / 1024**2)
    figures["warehouse_mib"] = round(du(data / "warehouse.duckdb") / 1024**2)
    print(json.dumps(figures), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", type=Path, required=True)
    parser.add_argument("--limit", default="1GB")
    parser.add_argument("--sf", default="1")
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    free, limited = args.workdir / "default", args.workdir / "limited"
    results = {
        "default": arm(args.platform, free, args.sf, None),
        "limited": arm(args.platform, limited, args.sf, args.limit),
    }
    results["zone_rows_equal"] = {zone: assert_same_zone(free, limited, zone) for zone in ZONES}
    results["mart_rows_equal"] = assert_same_marts(
        free / "warehouse.duckdb", str(limited / "warehouse.duckdb"), {"fct_orders", "fct_sessions"}
    )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
