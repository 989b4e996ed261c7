"""The ``partners`` dlt pipeline on simulated file drops: contract, quarantine, re-deliveries."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.errors import PlatformError
from ingestion.pipelines.partners import pipeline as partners_pipeline
from ingestion.pipelines.partners.helpers import parse_file
from simulator import partners, shop
from simulator.context import SimContext
from tests.simulator.conftest import CUTOFF


def _data_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines()[1:] if line.strip())


def _lake(ctx: SimContext, zone: str, table: str) -> str:
    return f"'{ctx.settings.zone_url(zone, 'partners', table)}/*.parquet'"


def _counts_by_file(ctx: SimContext) -> dict[str, tuple[int, int]]:
    """file hash → (rows loaded, rows quarantined), as the lake holds them."""
    loaded = dict(
        duckdb.sql(f"select file_sha256, count(*) from {_lake(ctx, 'raw', 'partner_inventory')} group by 1").fetchall()
    )
    quarantined = dict(
        duckdb.sql(
            f"select file_sha256, count(*) from {_lake(ctx, 'quarantine', 'rejected_rows')} group by 1"
        ).fetchall()
    )
    return {sha: (loaded.get(sha, 0), quarantined.get(sha, 0)) for sha in loaded.keys() | quarantined}


# -- the contract -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "part_id,qty_available,unit_price",
        " Unit Price ,PART_ID, Qty Available",
        "Part Id,QTY_AVAILABLE,Unit_Price,LEAD_TIME_DAYS",
    ],
    ids=["plain", "case-order-spaces", "extra-optional-column"],
)
def test_header_variants_meet_the_contract(header):
    names = [c.strip().lower().replace(" ", "_") for c in header.split(",")]
    values = {"part_id": "12", "qty_available": "30", "unit_price": "4.50", "lead_time_days": "3"}
    body = f"{header}\r\n{','.join(values[n] for n in names)}\r\n".encode()
    parsed = parse_file("acme/1998-07-01.csv", body, None)
    assert parsed.rejects == []
    assert len(parsed.rows) == 1
    row = parsed.rows[0]
    assert (row["part_id"], row["qty_available"], str(row["unit_price"])) == (12, 30, "4.50")
    assert row["lead_time_days"] == (3 if "lead_time_days" in names else None)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("abc,1,2.00", "part_id 'abc'"),
        ("5,n/a,2.00", "qty_available 'n/a'"),
        ("5,-5,2.00", "qty_available '-5'"),
        ("5,1,12,50", "expected 3 fields, found 4"),
        ("5,1,free", "unit_price 'free'"),
        ("5,1,2.005", "more than 2 decimals"),
        ("5,1,", "unit_price ''"),
    ],
    ids=["bad-key", "not-a-number", "negative", "decimal-comma", "word", "precision", "missing"],
)
def test_bad_rows_are_rejected_with_a_reason_and_line(line, reason):
    body = f"part_id,qty_available,unit_price\n\n1,2,3.00\n{line}\n".encode()
    parsed = parse_file("acme/1998-07-01.csv", body, None)
    assert [r["part_id"] for r in parsed.rows] == [1]
    assert len(parsed.rejects) == 1
    reject = parsed.rejects[0]
    assert reason in reject["reason"]
    assert reject["source_line"] == 4
    assert reject["raw_line"] == line
    assert parsed.data_rows == len(parsed.rows) + len(parsed.rejects)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"part_id;qty_available;unit_price\n1;2;3.00\n", "uses ';' as delimiter"),
        ("part_id,qty_available,unit_price\n1,2,3.00 €\n".encode("cp1252"), "is not UTF-8"),
        (b"part_id,unit_price\n1,3.00\n", "missing qty_available"),
        (b"part_id,qty,qty_available,unit_price\n1,1,2,3.00\n", "unknown qty"),
        (b"\n\n", "is empty"),
    ],
    ids=["wrong-delimiter", "wrong-encoding", "missing-column", "unknown-column", "empty"],
)
def test_unreadable_files_fail_naming_the_file(body, message):
    with pytest.raises(PlatformError, match=f"partner file globex/1998-07-01.csv .*{message}"):
        parse_file("globex/1998-07-01.csv", body, None)


# -- the pipeline -------------------------------------------------------------------------


def test_every_row_is_loaded_or_quarantined_once(feeds):
    summary = partners_pipeline.run(feeds.settings)
    files = sorted(Path(partners.landing_url(feeds.settings)).glob("*/*.csv"))
    unique = {hashlib.sha256(f.read_bytes()).hexdigest(): f for f in files}
    expected = {sha: _data_lines(f) for sha, f in unique.items()}
    counts = _counts_by_file(feeds)
    assert set(counts) == set(expected)
    assert {sha: sum(c) for sha, c in counts.items()} == expected
    assert sum(c[1] for c in counts.values()) > 0, "the feeds must have had some bad rows"
    assert summary["files"] == len(files)
    assert summary["duplicate_files"] == len(files) - len(unique)
    assert summary["rows"]["partner_inventory"] + summary["quarantined"]["rejected_rows"] == sum(expected.values())
    recorded = duckdb.sql(
        f"select sum(data_rows), sum(loaded_rows), sum(quarantined_rows),"
        f" count(*) filter (where status = 'duplicate')"
        f" from {_lake(feeds, 'raw', 'partner_files')}"
    ).fetchone()
    assert recorded == (
        sum(expected.values()),
        summary["rows"]["partner_inventory"],
        summary["quarantined"]["rejected_rows"],
        summary["duplicate_files"],
    )


def test_redelivered_files_load_nothing_twice(feeds):
    partners_pipeline.run(feeds.settings)
    before = _counts_by_file(feeds)
    landing = Path(partners.landing_url(feeds.settings))
    original = landing / "initech" / f"{CUTOFF}.csv"
    shutil.copy(original, landing / "initech" / f"{CUTOFF}-again.csv")
    os.utime(original)  # the same file written again: new modification time, same bytes
    again = partners_pipeline.run(feeds.settings)
    assert again["rows"]["partner_inventory"] == 0
    assert again["quarantined"]["rejected_rows"] == 0
    assert again["duplicate_files"] == 1
    assert _counts_by_file(feeds) == before
    assert partners_pipeline.run(feeds.settings)["files"] == 0


def test_a_new_day_loads_only_its_files(feeds):
    partners_pipeline.run(feeds.settings)
    day = CUTOFF + timedelta(days=1)
    shop.advance(feeds, 1)
    partners.produce_day(feeds, day)
    summary = partners_pipeline.run(feeds.settings)
    new_files = sorted(Path(partners.landing_url(feeds.settings)).glob(f"*/{day}*.csv"))
    assert summary["files"] == len(new_files) >= len(partners.PARTNERS)
    feed_dates = duckdb.sql(
        f"select distinct feed_date from {_lake(feeds, 'raw', 'partner_files')}"
        f" where _dlt_load_id = (select max(_dlt_load_id) from {_lake(feeds, 'raw', 'partner_files')})"
    ).fetchall()
    assert feed_dates == [(day,)]


def test_a_bad_file_stops_the_run_with_nothing_loaded(feeds):
    landing = Path(partners.landing_url(feeds.settings))
    bad = landing / "globex" / "1998-07-02.csv"
    bad.write_text("part_id;qty_available;unit_price\n1;2;3.00\n")
    with pytest.raises(PlatformError, match=r"partner file globex/1998-07-02\.csv uses ';'"):
        partners_pipeline.run(feeds.settings)
    assert not list(Path(feeds.settings.zone_url("raw", "partners")).glob("*/*.parquet"))
    assert not Path(feeds.settings.zone_url("quarantine", "partners")).exists()
    bad.unlink()
    assert partners_pipeline.run(feeds.settings)["rows"]["partner_inventory"] > 0
