"""`make bench`: measure every path at several scale factors and write docs/benchmarks.md.

    BENCH_SF="0.01 0.1 1" BENCH_REPEAT=3 BENCH_SUITES="clickstream day" marketplace bench

Each figure is the median of BENCH_REPEAT fresh runs (default 3 below SF 1, 1 at SF 1 and
above, where a run takes minutes); ratios are computed within one run, then medianed.
BENCH_SUITES picks the suites to run (all five take about 90 minutes on 2 cores); the
tables of the others are kept as they were, each with the line that says when it was measured.
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
from ingestion.errors import PlatformError
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


def kept_sections(text: str) -> dict[str, str]:
    """The tables of an earlier run, by suite: each section's text up to the next one."""
    tables = text.split(NOTES_MARKER, 1)[0]
    sections = {}
    for block in tables.split("\n## ")[1:]:
        name = block.split("\n", 1)[0].strip()
        sections[name] = f"## {block.rstrip()}"
    return sections


def section(name: str, title: str, rows: list[dict], seconds: float) -> str:
    """One suite's table, with when it was measured, at which SF and how long it took."""
    scale_factors = " ".join(f"{row['sf']:g}" for row in rows if "sf" in row)
    measured = f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds:,.0f}s at SF {scale_factors}."
    return "\n".join([f"## {name}", "", title, "", measured, "", *table(rows)])


def write(sections: dict[str, str], output: Path = OUTPUT) -> str:
    """docs/benchmarks.md: this run's tables, the other suites' from the last run, the notes."""
    old = output.read_text() if output.exists() else ""
    kept = kept_sections(old)
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`marketplace bench`); not a test. Seconds are wall-clock medians of",
        "fresh runs; `*_peak_mib` is the peak resident memory of the measured command and its children.",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}.",
    ]
    for name in SUITES:
        if name in sections or name in kept:
            lines += ["", sections.get(name) or kept[name]]
    if NOTES_MARKER in old:
        lines += ["", NOTES_MARKER + old.split(NOTES_MARKER, 1)[1].rstrip("\n")]
    output.parent.mkdir(exist_ok=True)
    output.write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main() -> None:
    settings = load_settings()
    unknown = [name for name in settings.bench_suites if name not in SUITES]
    if unknown:
        raise PlatformError(f"BENCH_SUITES={' '.join(settings.bench_suites)!r}: choose among {' '.join(SUITES)}")
    sections: dict[str, str] = {}
    for name in (suite for suite in SUITES if suite in settings.bench_suites):
        suite = importlib.import_module(f"benchmarks.{name}")
        started = time.monotonic()
        rows = []
        for sf in settings.bench_sf:
            print(f"bench {name} at SF {sf:g} ...", flush=True)
            rows.append(collect(suite, sf))
        title = (suite.__doc__ or "").strip().splitlines()[0]
        sections[name] = section(name, title, rows, time.monotonic() - started)
        # written after every suite, so a long run that is stopped keeps what it measured
        report = write(sections)
    print(report)


if __name__ == "__main__":
    main()
