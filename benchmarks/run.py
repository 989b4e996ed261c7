"""`make bench`: measure every path at several scale factors and write docs/benchmarks.md.

    BENCH_SF="0.01 0.1 1" BENCH_REPEAT=3 marketplace bench

Each figure is the median of BENCH_REPEAT fresh runs (default 3 below SF 1, 1 at SF 1 and
above, where a run takes minutes); ratios are computed within one run, then medianed.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import ROOT, median
from ingestion.settings import load_settings

OUTPUT = ROOT / "docs" / "benchmarks.md"
# What follows this line in OUTPUT is written by hand (how cost grows, runs too long for
# `make bench`) and kept when the tables above it are rewritten.
NOTES_MARKER = "<!-- Written by hand below this line; make bench keeps it. -->"
# Each module has run(sf, workdir) -> dict of figures; the table is written per module.
SUITES = ("shop", "clickstream", "payments", "engines", "day")


def repeats(sf: float) -> int:
    return load_settings().bench_repeat or (3 if sf < 1 else 1)


def collect(suite, sf: float) -> dict:
    runs = []
    for _ in range(repeats(sf)):
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{suite.__name__.rsplit('.', 1)[-1]}-"))
        try:
            runs.append(suite.run(sf, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    keys = runs[0].keys()
    return {k: median([r[k] for r in runs]) if isinstance(runs[0][k], int | float) else runs[0][k] for k in keys}


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict]) -> list[str]:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return lines


def write(sections: list, seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`marketplace bench`); not a test. Seconds are wall-clock medians of",
        "fresh runs; `*_peak_mib` is the peak resident memory of the measured command and its children.",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds:,.0f}s.",
    ]
    for name, title, rows in sections:
        lines += ["", f"## {name}", "", title, "", *table(rows)]
    old = OUTPUT.read_text() if OUTPUT.exists() else ""
    if NOTES_MARKER in old:
        lines += ["", NOTES_MARKER + old.split(NOTES_MARKER, 1)[1].rstrip("\n")]
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main() -> None:
    scale_factors = list(load_settings().bench_sf)
    started = time.monotonic()
    sections = []
    for name in SUITES:
        try:
            suite = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError:
            continue
        rows = []
        for sf in scale_factors:
            print(f"bench {name} at SF {sf:g} ...", flush=True)
            rows.append(collect(suite, sf))
        sections.append((name, (suite.__doc__ or "").strip().splitlines()[0], rows))
        # written after every suite, so a long run that is stopped keeps what it measured
        report = write(sections, time.monotonic() - started)
    print(report)


if __name__ == "__main__":
    main()
