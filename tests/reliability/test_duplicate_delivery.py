"""Duplicate delivery (issue 13, scenario 3): every source delivers something twice.

One SF 0.01 platform: a partner file delivered again under a new name, a clickstream
landing file delivered again in another hour's folder (after the first was processed),
and the payments API serving pages twice (its next cursor leads back to the same page).
No mart holds a duplicate, and the duplicates are counted where each source's accounting
says: the partner file ledger (``file_status = 'duplicate'``), the clickstream job's
audit (``duplicate_count`` of the copy), the raw payments zone (one row per version
served, deduplicated by staging). A Kinesis shard replayed from an old checkpoint is the
same story through the Kinesis consumer.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.pipelines.clickstream import pipeline as kinesis_consumer
from ingestion.pipelines.partners import pipeline as partners_pipeline
from ingestion.pipelines.payments import pipeline as payments_pipeline
from ingestion.settings import load_settings
from marketplace import demo
from processing.clickstream import duckdb_job
from simulator import clickstream, init_sources, partners, payments, shop
from simulator import payments_api as local_api
from simulator.context import SimContext
from tests.conftest import dbt, platform_env, platform_settings
from tests.ingestion.pipelines.clickstream.test_kinesis import moto_kinesis  # noqa: F401 (its fixture)

pytestmark = pytest.mark.e2e

REPEATED_PAGES = 3
PAGE_SIZE = 100  # small pages, so that SF 0.01 has several to repeat
MODELS = (
    "+fct_daily_cash_revenue +fct_payment_reconciliation +fct_supplier_stock path:models/staging/partners "
    "+fct_clickstream_deliveries +fct_sessions"
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> dict:
    env = platform_env(tmp_path_factory.mktemp("duplicates") / "data", SF="0.01")
    settings = platform_settings(Path(env["DATA_DIR"]))
    init_sources(settings, date(1998, 7, 25))
    landing = Path(partners.landing_url(settings))
    newest = max(landing.glob("acme/????-??-??.csv"))
    partner_copy = shutil.copy(newest, newest.with_name(f"{newest.stem}-again.csv"))
    demo.run_pipeline("shop", settings)
    partners_pipeline.run(settings)
    store = payments.store_path(settings.sources_dir)
    with local_api.running(store, local_api.LOCAL_TOKEN, local_api.Faults(repeated_pages=REPEATED_PAGES)) as server:
        payments_pipeline.run(settings, base_url=server.url, token=local_api.LOCAL_TOKEN, page_size=PAGE_SIZE)
    lake = settings.lake_url
    duckdb_job.run(lake)
    # The same file again, in another hour's folder of the same day, after it was processed.
    original = sorted(Path(lake, "landing", "clickstream").glob("*/*/*/10/*.gz"))[-1]
    click_copy = original.parent.parent / "23" / original.name
    click_copy.parent.mkdir(exist_ok=True)
    shutil.copy(original, click_copy)
    duckdb_job.run(lake)
    dbt(env, "build", "--indirect-selection", "cautious", "--select", *MODELS.split())
    return {
        "env": env,
        "settings": settings,
        "partner_copy": Path(partner_copy),
        "click_original": original,
        "click_copy": click_copy,
    }


def query(platform, sql: str) -> list[tuple]:
    with duckdb.connect(str(platform["settings"].warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def distinct_partner_files(settings) -> dict[str, Path]:
    """The partner files of the landing zone by content (a file delivered again, under any
    name, counts once): {sha256: path}."""
    landing = Path(partners.landing_url(settings))
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in sorted(landing.glob("*/*.csv"))}


def delivered_partner_rows(settings, unique: dict[str, Path] | None = None) -> int:
    """Data rows in the distinct partner files."""
    files = (unique or distinct_partner_files(settings)).values()
    return sum(sum(1 for line in p.read_text().splitlines()[1:] if line.strip()) for p in files)


def test_a_partner_file_under_a_new_name_is_counted_once(platform):
    settings = platform["settings"]
    landing = Path(partners.landing_url(settings))
    unique = distinct_partner_files(settings)
    delivered = delivered_partner_rows(settings, unique)
    raw = settings.zone_url("raw", "partners")
    ((loaded, quarantined, recorded, reports, distinct),) = query(
        platform,
        f"select (select count(*) from read_parquet('{raw}/partner_inventory/*.parquet')),"
        " (select count(*) from stg_partners__rejected_rows),"
        " (select sum(data_row_count) from stg_partners__files),"
        " (select count(*) from stg_partners__stock_reports),"
        " (select count(distinct (supplier_id, part_id, report_date)) from stg_partners__stock_reports)",
    )
    files = sorted(landing.glob("*/*.csv"))
    duplicates = query(platform, "select source_file from stg_partners__files where file_status = 'duplicate'")
    # The simulator re-sends a few files itself; the copy is one more of them.
    assert platform["partner_copy"].name in {Path(f).name for (f,) in duplicates}
    assert len(duplicates) == len(files) - len(unique) > 1
    assert loaded + quarantined == delivered == recorded, "the copy's rows were loaded or counted again"
    assert reports == distinct


def test_a_clickstream_file_in_another_hour_is_counted_as_duplicates(platform):
    lines = gzip.decompress(platform["click_copy"].read_bytes()).decode().splitlines()
    rows = {
        Path(source).parts[-2]: counts
        for source, *counts in query(
            platform,
            "select source_file, delivered_count, processed_count, quarantined_count, duplicate_count"
            f" from stg_clickstream__landing_files where source_file like '%/{platform['click_copy'].name}'",
        )
    }
    (_, o_processed, o_quarantined, o_duplicates), copy = rows["10"], rows["23"]
    assert copy[0] == len(lines) > 0
    assert copy[1] == 0, "an event of the copy was stored again"
    assert copy[3] == o_processed + o_duplicates and copy[2] == o_quarantined
    broken = query(
        platform,
        "select count(*) from fct_clickstream_deliveries"
        " where delivered_count <> processed_count + quarantined_count + duplicate_count"
        " or stored_event_count <> processed_count",
    )
    assert broken == [(0,)]
    ((events, distinct),) = query(platform, "select count(*), count(distinct event_id) from stg_clickstream__events")
    assert events == distinct


def test_api_pages_served_twice_land_twice_and_count_once(platform):
    settings = platform["settings"]
    totals = payments.totals(payments.store_path(settings.sources_dir))
    raw = settings.zone_url("raw", "payments")
    ((landed, versions),) = query(
        platform, f"select count(*), count(distinct (id, updated)) from read_parquet('{raw}/charges/*.parquet')"
    )
    assert landed - versions >= PAGE_SIZE, "no page was served twice"
    assert versions == totals["charge_count"]
    ((staged, cash, refunded),) = query(
        platform,
        "select (select count(*) from stg_payments__charges),"
        " (select sum(charged_amount) * 100 from fct_daily_cash_revenue),"
        " (select sum(refunded_amount) * 100 from fct_daily_cash_revenue)",
    )
    assert (staged, int(cash), int(refunded)) == (
        totals["charge_count"],
        totals["charged_amount"],
        totals["refunded_amount"],
    )
    reconciliation = "select count(*), count(distinct order_id) from fct_payment_reconciliation"
    ((orders, distinct_orders),) = query(platform, reconciliation)
    assert orders == distinct_orders


# -- Kinesis: a shard replayed from an old checkpoint ------------------------------------


@pytest.mark.usefixtures("moto_kinesis")
def test_a_kinesis_shard_replayed_from_an_old_checkpoint_adds_no_event(tmp_path):
    settings = load_settings({**os.environ, "DATA_DIR": str(tmp_path / "data"), "SF": "0.01"})
    ctx = SimContext(settings)
    shop.init(ctx, date(1998, 1, 3))
    clickstream.init(ctx)  # puts the history's events to the stream
    lake = Path(settings.lake_url)
    checkpoint = next((lake / "landing" / "clickstream" / "_checkpoints").glob("*.json"), None)
    assert checkpoint is None, "nothing consumed yet"

    kinesis_consumer.run(settings, max_records=300, batch_records=100)
    checkpoint = next((lake / "landing" / "clickstream" / "_checkpoints").glob("*.json"))
    old = checkpoint.read_bytes()
    kinesis_consumer.run(settings, batch_records=100)
    first = duckdb_job.run(str(lake))
    landed = {p: p.read_bytes() for p in (lake / "landing" / "clickstream").rglob("*.json.gz")}
    # The checkpoint goes back (a restored backup, a consumer that lost its writes) and the
    # consumer reads again in other batch sizes: the same records land in other files.
    checkpoint.write_bytes(old)
    replayed = kinesis_consumer.run(settings, batch_records=70)["rows"]["events"]
    second = duckdb_job.run(str(lake))

    assert replayed > 0 and second["files"] > 0, "the replay landed no new file"
    assert all(p.read_bytes() == data for p, data in landed.items()), "the replay rewrote a processed file"
    assert second["processed"] == 0, "a replayed event was stored again"
    assert second["delivered"] == second["duplicates"] + second["quarantined"] > 0
    stored, distinct = duckdb.sql(
        f"select count(*), count(distinct event_id) from read_parquet('{lake}/processed/clickstream/*/*.parquet')"
    ).fetchone()
    assert stored == distinct == first["processed"]
