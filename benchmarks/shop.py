"""Foundation figures: simulate, ingest and build the shop path at one scale factor.

The shop ingest is measured beside its yardstick, a plain DuckDB ``sqlite_scan`` → ``COPY
... TO parquet`` of the same eight tables (``plain_export_*``, run as
``python -m benchmarks.shop SHOP_DB OUT_DIR``), on the same file in the same run; and
so is the bulk first load (``marketplace ingest shop --bulk``, ``bulk_*``), into a lake
and dlt folder of its own.
"""

from __future__ import annotations

import json
import re
import sys
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
    shop_db = Path(env["DATA_DIR"]) / "sources" / "shop.db"
    plain = measure([str(BIN / "python"), "-m", "benchmarks.shop", str(shop_db), str(workdir / "plain_export")], env)
    ingest = measure([cli, "ingest", "shop"], env)
    rows = loaded_rows(ingest.stdout)
    bulk_env = bench_env(workdir / f"sf{sf:g}-bulk", SF=str(sf), SHOP_DB_URL=f"sqlite:///{shop_db}")
    bulk = measure([cli, "ingest", "shop", "--bulk"], bulk_env)
    if loaded_rows(bulk.stdout) != rows:
        raise RuntimeError(f"the bulk load landed {loaded_rows(bulk.stdout):,} rows, the incremental one {rows:,}")
    build = measure([dbt, "build", *SHOP_SELECTION], env)
    build_models = model_seconds(env)
    advance = measure([cli, "simulate", "advance", "--days", "1"], env)
    ingest_day = measure([cli, "ingest", "shop"], env)
    day_rows = loaded_rows(ingest_day.stdout)
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
        "plain_export_s": plain.seconds,
        "plain_export_peak_mib": plain.peak_mib,
        "ingest_vs_plain_export": ingest.seconds / plain.seconds,
        "bulk_s": bulk.seconds,
        "bulk_peak_mib": bulk.peak_mib,
        "bulk_vs_plain_export": bulk.seconds / plain.seconds,
        "bulk_vs_ingest": bulk.seconds / ingest.seconds,
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


def loaded_rows(cli_output: str) -> int:
    """The row count of ``marketplace ingest shop``'s summary line."""
    return int(re.search(r"shop: loaded ([\d,]+) rows", cli_output).group(1).replace(",", ""))


def plain_export(shop_db: Path, out_dir: Path) -> None:
    """The yardstick: every shop table straight from SQLite to one Parquet file, DuckDB alone."""
    from ingestion import duck
    from ingestion.pipelines.shop.settings import TABLES

    out_dir.mkdir(parents=True, exist_ok=True)
    con = duck.connect(":memory:", "sqlite_scanner")
    try:
        for table in TABLES:
            scan = f"select * from sqlite_scan('{shop_db}', '{table}')"
            con.execute(f"copy ({scan}) to '{out_dir / table}.parquet' (format parquet)")
    finally:
        con.close()


if __name__ == "__main__":
    plain_export(Path(sys.argv[1]), Path(sys.argv[2]))
