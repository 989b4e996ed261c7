"""Foundation figures: simulate, ingest and build the shop path at one scale factor."""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks.harness import BIN, bench_env, measure

# The shop path only: staging, intermediate and core marts, the snapshot, their tests.
SHOP_SELECTION = ["--select", "tag:shop", "--indirect-selection", "cautious"]


def model_seconds(env: dict[str, str]) -> float:
    """Time dbt spent executing nodes (without its own start-up and parsing)."""
    results = json.loads((Path(env["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    return sum(r.get("execution_time") or 0 for r in results["results"])


def run(sf: float, workdir: Path) -> dict:
    env = bench_env(workdir / f"sf{sf:g}", SF=str(sf), TPCH_CACHE_DIR=str(workdir / f"sf{sf:g}" / "cache"))
    cli, dbt = str(BIN / "marketplace"), str(BIN / "dbt")
    simulate = measure([cli, "simulate", "init", "--sf", str(sf), "--only", "shop"], env)
    ingest = measure([cli, "ingest", "shop"], env)
    rows = int(re.search(r"shop: loaded ([\d,]+) rows", ingest.stdout).group(1).replace(",", ""))
    build = measure([dbt, "build", *SHOP_SELECTION], env)
    build_models = model_seconds(env)
    advance = measure([cli, "simulate", "advance", "--days", "1"], env)
    ingest_day = measure([cli, "ingest", "shop"], env)
    day_rows = int(re.search(r"shop: loaded ([\d,]+) rows", ingest_day.stdout).group(1).replace(",", ""))
    build_day = measure([dbt, "build", *SHOP_SELECTION], env)
    day_models = model_seconds(env)
    return {
        "sf": sf,
        "simulate_s": simulate.seconds,
        "simulate_peak_mib": simulate.peak_mib,
        "ingest_s": ingest.seconds,
        "ingest_rows": rows,
        "ingest_rows_per_s": rows / ingest.seconds,
        "ingest_peak_mib": ingest.peak_mib,
        "build_s": build.seconds,
        "build_models_s": build_models,
        "build_peak_mib": build.peak_mib,
        "ingest_plus_build_s": ingest.seconds + build.seconds,
        "advance_s": advance.seconds,
        "day_ingest_s": ingest_day.seconds,
        "day_ingest_rows": day_rows,
        "day_build_s": build_day.seconds,
        "day_build_models_s": day_models,
        "day_vs_full_build": build_day.seconds / build.seconds,
        "day_vs_full_models": day_models / build_models if build_models else float("nan"),
    }
