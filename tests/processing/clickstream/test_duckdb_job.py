"""The DuckDB clickstream job on hand-written landing files: contract, dedup, bookmark."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.errors import PlatformError
from processing.clickstream import duckdb_job
from tests.processing.clickstream.conftest import event


def _rows(lake: Path, zone: str) -> list[dict]:
    folder = {
        "processed": lake / "processed" / "clickstream",
        "quarantine": lake / "quarantine" / "clickstream",
        "audit": lake / "processed" / "clickstream_audit",
    }[zone]
    files = sorted(str(p) for p in folder.rglob("*.parquet"))
    if not files:
        return []
    rel = duckdb.sql(f"select * from read_parquet({files}, hive_partitioning = true)")
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def _snapshot(lake: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(lake)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted((lake / "processed").rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"event_id": "x1", "event_type": "page_', "malformed_json"),
        ("[1, 2]", "malformed_json"),
        ("", "malformed_json"),
        (event("x2", "1998-03-01T10:00:00.000Z", event_type="page_scroll"), "unknown_event_type"),
        (event("", "1998-03-01T10:00:00.000Z"), "missing_key"),
        (event("x3", "1998-03-01T10:00:00.000Z", event_type="order_placed"), "missing_key"),
        (event("x4", "1998-02-30T10:00:00.000Z"), "bad_timestamp"),
        (event("x5", "1998-03-01 10:00:00"), "bad_timestamp"),
        (event("x6", "1998-03-05T10:00:00.000Z"), "bad_timestamp"),
        (event("x7", "1998-03-01T10:00:00.000Z", event_type="product_view", part_id="abc"),
         "bad_value"),
    ],
    ids=[
        "truncated-json", "not-an-object", "empty-line", "unknown-type", "empty-event-id",
        "order-without-order-id", "impossible-date", "wrong-format", "from-the-future",
        "non-integer-part",
    ],
)  # fmt: skip
def test_bad_lines_are_quarantined_with_reason_file_and_line(landing, line, reason):
    good = event("ok", "1998-03-01T09:59:00.000Z")
    source = landing.drop("1998-03-01 10", [good, line, good.replace('"ok"', '"ok2"')])
    summary = duckdb_job.run(str(landing.lake))
    assert (summary["delivered"], summary["processed"], summary["quarantined"]) == (3, 2, 1)
    [bad] = _rows(landing.lake, "quarantine")
    assert (bad["reason"], bad["source_file"], bad["line_number"]) == (reason, source, 2)
    assert bad["raw_line"] == line
    assert {r["event_id"] for r in _rows(landing.lake, "processed")} == {"ok", "ok2"}


def test_duplicates_across_batches_and_late_events(landing):
    first = landing.drop("1998-03-02 08", [
        event("a", "1998-03-02T07:59:00.000Z"),
        event("b", "1998-03-01T23:00:00.000Z"),
        event("a", "1998-03-02T07:59:00.000Z"),
    ])  # fmt: skip
    assert duckdb_job.run(str(landing.lake))["duplicates"] == 1
    partition = landing.lake / "processed/clickstream/event_date=1998-03-02"
    untouched = {p.name: p.stat().st_mtime_ns for p in partition.iterdir()}
    assert len(untouched) == 1

    # Two days later: "b" again (a redelivery) and "c", an event of March 1st arriving late.
    second = landing.drop("1998-03-04 02", [
        event("b", "1998-03-01T23:00:00.000Z"),
        event("c", "1998-03-01T12:00:00.000Z"),
    ])  # fmt: skip
    summary = duckdb_job.run(str(landing.lake))
    assert (summary["processed"], summary["duplicates"], summary["partitions_rewritten"]) == (1, 1, 1)
    assert {p.name: p.stat().st_mtime_ns for p in partition.iterdir()} == untouched
    # March 1st got the late event as a second part file; its first file is untouched.
    assert len(list((partition.parent / "event_date=1998-03-01").glob("part-*.parquet"))) == 2
    rows = {r["event_id"]: r for r in _rows(landing.lake, "processed")}
    assert sorted(rows) == ["a", "b", "c"]
    assert str(rows["c"]["event_date"]) == "1998-03-01"
    assert (rows["b"]["source_file"], rows["c"]["source_file"]) == (first, second)
    audit = {r["source_file"]: r for r in _rows(landing.lake, "audit")}
    assert {k: audit[second][k] for k in ("delivered", "processed", "duplicates")} == {
        "delivered": 2, "processed": 1, "duplicates": 1,
    }  # fmt: skip


def test_running_again_on_the_same_input_changes_nothing(landing):
    landing.drop("1998-03-02 08", [event("a", "1998-03-02T07:59:00.000Z"), "not json"])
    duckdb_job.run(str(landing.lake))
    before = _snapshot(landing.lake)
    summary = duckdb_job.run(str(landing.lake))
    assert summary["files"] == 0
    assert _snapshot(landing.lake) == before


def test_a_batch_that_crashed_before_its_audit_is_redone_exactly(landing):
    landing.drop("1998-03-02 08", [event("a", "1998-03-02T07:59:00.000Z")] * 2)
    first = duckdb_job.run(str(landing.lake))
    shutil.rmtree(landing.lake / "processed" / "clickstream_audit")
    again = duckdb_job.run(str(landing.lake))
    keys = ("batch_id", "delivered", "processed", "quarantined", "duplicates")
    assert {k: again[k] for k in keys} == {k: first[k] for k in keys}
    assert len(_rows(landing.lake, "processed")) == 1


def _cut_gzip() -> bytes:
    """A real gzip file of many event lines, cut to half its size (a delivery that stopped)."""
    lines = "".join(event(f"e{n}", "1998-03-02T09:00:00.000Z") + "\n" for n in range(2000))
    whole = gzip.compress(lines.encode())
    return whole[: len(whole) // 2]


@pytest.mark.parametrize("content", [b"\x1f\x8b this is not gzip", _cut_gzip()], ids=["not-gzip", "gzip-cut-in-half"])
def test_an_unreadable_file_stops_the_batch_before_anything_is_written(landing, content):
    landing.drop("1998-03-02 08", [event("a", "1998-03-02T07:59:00.000Z")])
    broken = landing.root / "1998/03/02/09/clickstream-b-1998-03-02-09.json.gz"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(content)
    with pytest.raises(PlatformError, match="cannot read landing file 1998/03/02/09/"):
        duckdb_job.run(str(landing.lake))
    assert not (landing.lake / "processed").exists()
