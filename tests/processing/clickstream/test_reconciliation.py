"""Per landing day, every delivered line is processed, quarantined or a removed duplicate."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from processing.clickstream import duckdb_job
from simulator import clickstream, shop
from simulator.context import SimContext
from tests.conftest import platform_settings

CUTOFF = date(1998, 1, 20)


def _delivered_per_day(landing: Path) -> dict[date, int]:
    files = [str(p) for p in landing.rglob("*.gz")]
    rows = duckdb.sql(
        "select parse_filename(filename, true) as name, count(*) from read_csv("
        f"{files}, columns = {{'line': 'VARCHAR'}}, delim = '\\x01', quote = '', escape = '', "
        "header = false, filename = true) group by all"
    ).fetchall()
    per_day: dict[date, int] = {}
    for name, count in rows:
        day = date.fromisoformat(name.split("-1-", 1)[1][:10])
        per_day[day] = per_day.get(day, 0) + count
    return per_day


def _audit_per_day(lake: Path) -> dict[date, tuple[int, int, int, int]]:
    rows = duckdb.sql(
        "select landing_date, sum(delivered), sum(processed), sum(quarantined), sum(duplicates) "
        f"from '{lake}/processed/clickstream_audit/*/*.parquet' group by 1"
    ).fetchall()
    return {day: tuple(int(v) for v in counts) for day, *counts in rows}


@pytest.fixture(scope="module")
def two_batches(tmp_path_factory):
    """History to CUTOFF processed, then three more days (late events, redeliveries)."""
    data_dir = tmp_path_factory.mktemp("recon")
    ctx = SimContext(platform_settings(data_dir))
    shop.init(ctx, CUTOFF)
    clickstream.init(ctx)
    first = duckdb_job.run(ctx.settings.lake_url)
    shop.advance(ctx, 3)
    for offset in range(1, 4):
        clickstream.produce_day(ctx, CUTOFF + timedelta(days=offset))
    second = duckdb_job.run(ctx.settings.lake_url)
    return Path(ctx.settings.lake_url), first, second


def test_counts_reconcile_exactly_per_landing_day(two_batches):
    lake, first, second = two_batches
    delivered = _delivered_per_day(lake / "landing" / "clickstream")
    audit = _audit_per_day(lake)
    assert set(audit) == set(delivered)
    for day, (n, processed, quarantined, duplicates) in audit.items():
        assert n == delivered[day], day
        assert n == processed + quarantined + duplicates, day
    assert first["quarantined"] > 0 and first["duplicates"] > 0
    assert second["duplicates"] > 0 and second["processed"] > 0


def test_zones_hold_what_the_audit_counts(two_batches):
    lake, _, _ = two_batches
    audit = _audit_per_day(lake)
    stored = dict(duckdb.sql(
        "select landing_date, count(*) from read_parquet("
        f"'{lake}/processed/clickstream/*/*.parquet', hive_partitioning = true) group by 1"
    ).fetchall())  # fmt: skip
    quarantined = dict(duckdb.sql(
        f"select landing_date, count(*) from '{lake}/quarantine/clickstream/*/*.parquet' group by 1"
    ).fetchall())  # fmt: skip
    assert {d: c[1] for d, c in audit.items() if c[1]} == stored
    assert {d: c[2] for d, c in audit.items() if c[2]} == quarantined
    unique, total = duckdb.sql(
        f"select count(distinct event_id), count(*) from '{lake}/processed/clickstream/*/*.parquet'"
    ).fetchone()
    assert unique == total


def test_late_events_of_the_first_batch_days_land_in_their_own_partition(two_batches):
    lake, _, second = two_batches
    late = duckdb.sql(
        "select count(*) from read_parquet("
        f"'{lake}/processed/clickstream/*/*.parquet', hive_partitioning = true) "
        f"where event_date <= '{CUTOFF}' and landing_date > '{CUTOFF}'"
    ).fetchone()[0]
    assert late > 0
    assert second["partitions_rewritten"] > 3
