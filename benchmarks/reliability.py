"""Recovery cost of a damaged shop database, for docs/reliability.md (not a test).

``python -m benchmarks.reliability --sf 1 [--kinds damaged-middle,truncated]`` builds the
shop at SF in a temporary DATA_DIR and loads it; then, per kind of damage, it lets a day
pass, damages the file, times the failing ``marketplace ingest shop``, restores the file,
times the re-run, lets one more day pass and times an uninterrupted run to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.harness import bench_env, measure
from ingestion.settings import load_settings
from marketplace.devenv import BIN, ROOT
from simulator import advance_sources, init_sources

PAGE = 4096


def damage(db: Path, kind: str) -> None:
    if kind == "damaged-middle":
        with db.open("r+b") as file:
            file.seek(db.stat().st_size // PAGE // 2 * PAGE)
            file.write(random.Random(13).randbytes(32 * PAGE))
    elif kind == "truncated":
        os.truncate(db, db.stat().st_size // 2)
    elif kind == "not-a-database":
        db.write_bytes(b"order_id,total\n1,10.00\n" * 200)
    elif kind == "empty":
        db.write_bytes(b"")
    else:
        raise SystemExit(f"unknown kind {kind!r}")


def run(sf: float, kinds: list[str], workdir: Path) -> list[dict]:
    env = bench_env(workdir / "data", SF=f"{sf:g}")
    settings = load_settings(env)
    init_sources(settings, only=())
    db = Path(settings.shop_db_url.removeprefix("sqlite:///"))
    ingest = [str(BIN / "marketplace"), "ingest", "shop"]
    measure(ingest, env)
    results = []
    for kind in kinds:
        advance_sources(settings, 1)
        good = shutil.copyfile(db, workdir / "good-shop.db")
        damage(db, kind)
        started = time.perf_counter()
        failed = subprocess.run(ingest, cwd=ROOT, env=env, capture_output=True, text=True)
        failed_s = time.perf_counter() - started
        if failed.returncode != 1:
            raise RuntimeError(f"{kind}: the damaged run exited {failed.returncode}:\n{failed.stderr[-4000:]}")
        shutil.copyfile(good, db)
        rerun = measure(ingest, env)
        advance_sources(settings, 1)
        plain = measure(ingest, env)
        errors = [line for line in failed.stderr.splitlines() if line.strip()]
        results.append({
            "sf": sf, "kind": kind, "failed_run_s": round(failed_s, 1), "rerun_s": round(rerun.seconds, 1),
            "uninterrupted_s": round(plain.seconds, 1), "stderr_lines": len(errors), "error": errors[-1],
        })  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, default=0.01)
    parser.add_argument("--kinds", default="damaged-middle,truncated,not-a-database,empty")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reliability-bench-") as workdir:
        for result in run(args.sf, args.kinds.split(","), Path(workdir)):
            print(result, flush=True)


if __name__ == "__main__":
    main()
