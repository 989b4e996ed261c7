"""Recovery cost of a pipeline killed mid-run, for docs/reliability.md (not a test).

``python -m benchmarks.crash_recovery [--sf 0.01]`` simulates the sources in a temporary
DATA_DIR and, for each step (extract, normalize, load; one simulated day apart) and each
pipeline (shop, payments, partners): copies the DATA_DIR to a twin, times an
uninterrupted ``marketplace ingest <pipeline>`` in the twin, then kills the same command
in that step in the original (as tests/reliability/test_crash_mid_ingestion.py does) and
times the re-run. Both runs load the same data.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.harness import bench_env, measure
from ingestion.settings import load_settings
from marketplace.devenv import BIN
from marketplace.lock import LOCK_FILE
from simulator import advance_sources, init_sources
from tests.reliability.crashes import PHASES, kill_during

PIPELINES = ("shop", "payments", "partners")


def run(sf: float, workdir: Path) -> list[dict]:
    env = bench_env(workdir / "data", SF=f"{sf:g}")
    settings = load_settings(env)
    init_sources(settings, date(1998, 7, 25))
    results = []
    for day, phase in enumerate(PHASES):
        if day:
            advance_sources(settings, 1)
        for name in PIPELINES:
            twin = workdir / "twin"
            shutil.copytree(settings.data_dir, twin, ignore=shutil.ignore_patterns(LOCK_FILE), symlinks=True)
            plain = measure([str(BIN / "marketplace"), "ingest", name], bench_env(twin, SF=f"{sf:g}"))
            shutil.rmtree(twin)
            started = time.perf_counter()
            pending = kill_during(env, name, phase)
            killed_s = time.perf_counter() - started
            rerun = measure([str(BIN / "marketplace"), "ingest", name], env)
            results.append({
                "sf": sf, "pipeline": name, "phase": phase, "killed_after_s": round(killed_s, 1),
                "packages_left": len(pending), "rerun_s": round(rerun.seconds, 1),
                "uninterrupted_s": round(plain.seconds, 1), "ratio": round(rerun.seconds / plain.seconds, 2),
            })  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crash-bench-") as workdir:
        results = run(args.sf, Path(workdir))
    for result in results:
        print(result, flush=True)
    print("median re-run / uninterrupted:", statistics.median(r["ratio"] for r in results))


if __name__ == "__main__":
    main()
