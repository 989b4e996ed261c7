"""Clickstream processing: events/s and peak memory of the DuckDB and Spark engines.

Both engines process the same landing zone (the simulator's whole history at SF) from
scratch, each in a fresh child process. ``*_events_per_s`` divides the lines delivered
by the job's own time; ``*_wall_s`` adds the process start (and, for Spark, the JVM and
session start), which is what a scheduler pays per run.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks.harness import bench_env, measure
from ingestion.settings import load_settings
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
    return figures
