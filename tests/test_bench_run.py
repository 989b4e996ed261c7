"""make bench with BENCH_SUITES: the suites it runs are rewritten, the others' tables kept."""

from __future__ import annotations

import pytest

from benchmarks import run
from ingestion.errors import PlatformError

EARLIER = f"""# Benchmarks

Machine: 2 cores, x86_64, Python 3.11.7; run 2026-12-01 10:00 UTC in 5,000s.

## shop

Foundation figures.

| sf | ingest_s |
|---|---|
| 0.010 | 3.782 |

## clickstream

Clickstream processing.

| sf | events_per_s |
|---|---|
| 0.010 | 100 |

{run.NOTES_MARKER}

## Reading these figures

Written by hand.
"""


def test_a_run_of_one_suite_rewrites_its_table_and_keeps_the_others_and_the_notes(tmp_path):
    output = tmp_path / "benchmarks.md"
    output.write_text(EARLIER)
    rows = [{"sf": 0.01, "events_per_s": 250_000}, {"sf": 1.0, "events_per_s": 400_000}]
    run.write({"clickstream": run.section("clickstream", "Clickstream processing.", rows, 61.2)}, output)
    text = output.read_text()
    shop = EARLIER[EARLIER.index("## shop") : EARLIER.index("## clickstream")].rstrip()
    assert shop in text
    assert "| 0.010 | 100 |" not in text
    assert "| 0.010 | 250,000 |\n| 1.000 | 400,000 |" in text
    assert "UTC in 61s at SF 0.01 1." in text
    assert text.index("## shop") < text.index("## clickstream") < text.index(run.NOTES_MARKER)
    assert text.endswith(f"{run.NOTES_MARKER}\n\n## Reading these figures\n\nWritten by hand.\n")
    assert text.count("## clickstream") == 1


def test_an_unknown_suite_stops_before_anything_runs(monkeypatch):
    monkeypatch.setenv("BENCH_SUITES", "shop clikstream")
    with pytest.raises(PlatformError, match="BENCH_SUITES='shop clikstream': choose among shop clickstream"):
        run.main()
