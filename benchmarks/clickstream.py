"""Clickstream processing: events/s and peak memory of the DuckDB and Spark engines.

Both engines process the same landing zone (the simulator's whole history at SF) from
scratch, each in a fresh child process. ``*_events_per_s`` divides the lines delivered
by the job's own time; ``*_wall_s`` adds the process start (and, for Spark, the JVM and
session start), which is what a scheduler pays per run. ``plain_*`` is the floor: plain
DuckDB ``read_json`` of the same files into one Parquet file (no contract, no dedup, no
quarantine), and ``duckdb_over_plain_time`` the job's wall time over that floor's.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks.harness import bench_env, measure
from ingestion import duck
from ingestion.settings import load_settings
from processing.clickstream import contract
from simulator import clickstream, shop
from simulator.context import SimContext


def run(sf: float, workdir: Path) -> dict:
    source = workdir / f"clickstream-sf{sf:g}"
    ctx = SimContext(load_settings({"DATA_DIR": str(source), "SF": str(sf)}))
    shop.init(ctx, shop.DEFAULT_CUTOFF)
    started = time.perf_counter()
    clickstream.init(ctx)
    simulate_s = time.perf_counter() - started
    landing = Path(ctx.settings.lake_url) / "landing"
    files = list(landing.rglob("*.gz"))
    figures: dict = {
        "sf": sf,
        "landing_files": len(files),
        "landing_gzip_mib": sum(f.stat().st_size for f in files) / 2**20,
        "simulate_s": simulate_s,
    }
    for engine in ("duckdb", "spark"):
        data_dir = workdir / engine
        shutil.copytree(landing, data_dir / "lake" / "landing")
        measured = measure(
            [sys.executable, "-m", "processing.clickstream", "--engine", engine],
            bench_env(data_dir, SF=str(sf)),
        )
        summary = json.loads(measured.stdout.strip().splitlines()[-1])
        figures["events"] = summary["delivered"]
        figures[f"{engine}_events_per_s"] = summary["delivered"] / summary["seconds"]
        figures[f"{engine}_wall_s"] = measured.seconds
        figures[f"{engine}_peak_mib"] = measured.peak_mib
        shutil.rmtree(data_dir, ignore_errors=True)
    figures["spark_over_duckdb_time"] = figures["spark_wall_s"] / figures["duckdb_wall_s"]
    out = workdir / "plain.parquet"
    plain = measure(
        [sys.executable, "-m", "benchmarks.clickstream", str(landing / "clickstream"), str(out)],
        bench_env(workdir / "plain", SF=str(sf)),
    )
    out.unlink(missing_ok=True)
    figures["plain_wall_s"] = plain.seconds
    figures["plain_peak_mib"] = plain.peak_mib
    figures["duckdb_over_plain_time"] = figures["duckdb_wall_s"] / plain.seconds
    return figures


def plain_copy(landing: str, out: str) -> dict:
    """Plain DuckDB: every landing file's JSON lines into one Parquet file, two threads."""
    columns = ", ".join(f"{key}: 'VARCHAR'" for key in contract.JSON_KEYS)
    con = duck.connect(config={"threads": 2})
    started = time.perf_counter()
    rows = con.execute(f"""
        copy (
            select * from read_json('{landing}/{contract.LANDING_GLOB}', format = 'newline_delimited',
                ignore_errors = true, columns = {{{columns}}})
        ) to '{out}' (format parquet, compression snappy)
    """).fetchone()[0]
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


if __name__ == "__main__":
    print(json.dumps(plain_copy(sys.argv[1], sys.argv[2])))
