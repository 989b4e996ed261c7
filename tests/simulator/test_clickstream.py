"""The clickstream simulator: Firehose-style files, tied to shop orders, deterministic."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from simulator import clickstream, shop
from simulator.context import SimContext
from tests.conftest import platform_settings

CUTOFF = date(1998, 2, 10)


def _simulate(data_dir: Path, cutoff: date, advance_days: int = 0) -> SimContext:
    """The shop plus the clickstream only (the other simulators have their own tests)."""
    ctx = SimContext(platform_settings(data_dir))
    shop.init(ctx, cutoff)
    clickstream.init(ctx)
    ctx.set_watermark(clickstream.name, ctx.clock())
    if advance_days:
        shop.advance(ctx, advance_days)
        day = ctx.watermark(clickstream.name)
        while day < ctx.clock():
            day += timedelta(days=1)
            clickstream.produce_day(ctx, day)
            ctx.set_watermark(clickstream.name, day)
    return ctx


def _files(ctx: SimContext) -> dict[str, bytes]:
    root = Path(clickstream.landing_url(ctx))
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.gz"))}


def _lines(files: dict[str, bytes]) -> list[tuple[str, str]]:
    return [(path, line) for path, data in files.items() for line in gzip.decompress(data).decode().splitlines()]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> SimContext:
    return _simulate(tmp_path_factory.mktemp("click"), CUTOFF)


def test_files_are_hourly_gzip_json_lines_in_firehose_folders(simulated):
    files = _files(simulated)
    assert files, "no landing files written"
    first_day = min(files)[:10]
    assert first_day == clickstream.LAUNCH_DATE.strftime("%Y/%m/%d")
    for path in files:
        year, month, day, hour, name = path.split("/")
        assert datetime(int(year), int(month), int(day), int(hour)).date() <= CUTOFF
        assert name == f"clickstream-1-{year}-{month}-{day}-{hour}-00-00.json.gz"


def test_order_placed_events_carry_the_orders_released_that_day(simulated):
    events = [json.loads(line) for _, line in _lines(_files(simulated)) if line.endswith("}")]
    placed = {
        e["order_id"]: (e["customer_id"], e["event_at"][:10])
        for e in events
        if e.get("event_type") == "order_placed" and "event_id" in e
    }
    con = simulated.connect(read_only=True)
    try:
        orders = con.execute(
            "select o_orderkey, o_custkey, cast(o_orderdate as date) from shop.orders "
            "where cast(o_orderdate as date) between ? and ?",
            [clickstream.LAUNCH_DATE, CUTOFF],
        ).fetchall()
        max_part = con.execute("select max(p_partkey) from shop.part").fetchone()[0]
    finally:
        con.close()
    expected = {key: (cust, day.isoformat()) for key, cust, day in orders}
    # A broken line can hide an order's event; every one that survived must match exactly.
    assert set(placed) <= set(expected)
    assert len(placed) >= 0.99 * len(expected)
    assert all(placed[key] == expected[key] for key in placed)
    parts = [e["part_id"] for e in events if e.get("event_type") == "product_view"]
    assert parts and all(1 <= p <= max_part for p in parts)


def test_faults_duplicates_late_events_and_broken_lines(simulated):
    lines = _lines(_files(simulated))
    parsed = []
    broken = 0
    for path, line in lines:
        try:
            parsed.append((path, json.loads(line)))
        except json.JSONDecodeError:
            broken += 1
    ids = [e["event_id"] for _, e in parsed if "event_id" in e]
    duplicate_share = (len(ids) - len(set(ids))) / len(ids)
    assert 0.005 < duplicate_share < 0.02
    assert 0 < broken < 0.005 * len(lines)
    lateness = []
    for path, event in parsed:
        try:
            at = datetime.strptime(event["event_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        except (KeyError, ValueError):
            continue
        arrived = datetime.strptime(path[:13], "%Y/%m/%d/%H")
        lateness.append(arrived - at.replace(minute=0, second=0, microsecond=0))
    assert min(lateness) >= timedelta(0)
    assert max(lateness) <= timedelta(days=3, hours=3)
    assert sum(late >= timedelta(days=1) for late in lateness) > 0


def test_init_and_advance_write_identical_files(simulated, tmp_path):
    """Days released by advance equal the same days written by a later init, byte for byte."""
    later = _simulate(tmp_path / "later", CUTOFF + timedelta(days=2))
    advanced = _simulate(tmp_path / "advanced", CUTOFF, advance_days=2)
    assert _files(advanced) == _files(later)
    assert set(_files(later)) > set(_files(simulated))


def test_producing_a_day_again_changes_nothing(simulated):
    before = _files(simulated)
    clickstream.produce_day(simulated, CUTOFF - timedelta(days=1))
    assert _files(simulated) == before
