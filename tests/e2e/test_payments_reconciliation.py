"""Reconciliation, end to end: payments API and partner files → lake → dbt marts.

One platform at SF 0.01 in a temporary DATA_DIR: history, a rate-limited payments load,
partner files with a re-delivery, three more simulated days, a second load of each,
then dbt builds the payments and partner models (and the shop models they need).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion import duck
from ingestion.pipelines.partners import pipeline as partners_pipeline
from ingestion.pipelines.partners.settings import PARTNER_SUPPLIERS
from ingestion.settings import load_settings
from marketplace import demo
from simulator import partners, payments
from tests.conftest import cli, dbt, platform_env

pytestmark = pytest.mark.e2e

MODELS = (
    "+fct_payment_reconciliation +fct_daily_cash_revenue +fct_supplier_stock "
    "+fct_part_price_history path:models/staging/payments path:models/staging/partners"
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("payments-e2e")
    env = platform_env(data_dir, SF="0.01")
    settings = load_settings({**env, "PAYMENTS_API_RATE_LIMIT": "0.5"})
    summaries: dict[str, list[dict]] = {"payments": [], "partners": []}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("SOURCES__PAYMENTS__BASE_URL", "SOURCES__PAYMENTS__TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        cli(env, "simulate", "init", "--sf", "0.01")
        landing = Path(partners.landing_url(settings))
        for _ in range(2):
            cli(env, "ingest", "shop")
            summaries["payments"].append(demo.run_payments(settings))
            summaries["partners"].append(partners_pipeline.run(settings))
            # A partner delivers its newest file again, under another name.
            newest = max(landing.glob("acme/????-??-??.csv"))
            shutil.copy(newest, newest.with_name(f"{newest.stem}-copy.csv"))
            cli(env, "simulate", "advance", "--days", "3")
        cli(env, "ingest", "shop")
        summaries["payments"].append(demo.run_payments(settings))
        summaries["partners"].append(partners_pipeline.run(settings))
    dbt(env, "build", "--indirect-selection", "cautious", "--select", *MODELS.split())
    return {"env": env, "settings": settings, "summaries": summaries}


def _warehouse(platform) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(platform["settings"].warehouse_path), read_only=True)


def _totals(platform) -> dict[str, int]:
    return payments.totals(payments.store_path(platform["settings"].sources_dir))


def test_the_loads_met_rate_limiting(platform):
    limited = [s["rate_limited_requests"] for s in platform["summaries"]["payments"]]
    assert sum(limited) > 0


def test_api_records_equal_landed_rows(platform):
    store = payments.store_path(platform["settings"].sources_dir)
    raw = platform["settings"].zone_url("raw", "payments")
    with duck.connect(":memory:", "sqlite_scanner") as con:
        con.execute(f"attach '{store}' as api (type sqlite, read_only)")
        for table, version in (("charges", "updated"), ("refunds", "created")):
            missing = con.execute(
                f"select count(*) from api.{table} as served anti join"
                f" read_parquet('{raw}/{table}/*.parquet') as landed"
                f" using (id, {version})"
            ).fetchone()[0]
            served, landed_ids = con.execute(
                f"select (select count(*) from api.{table}),"
                f" (select count(distinct id) from read_parquet('{raw}/{table}/*.parquet'))"
            ).fetchone()
            assert missing == 0, f"{missing} {table} served by the API never landed"
            assert landed_ids == served
    with _warehouse(platform) as warehouse:
        staged = warehouse.execute(
            "select (select count(*) from stg_payments__charges), (select count(*) from stg_payments__refunds)"
        ).fetchone()
    totals = _totals(platform)
    assert staged == (totals["charge_count"], totals["refund_count"])


def test_cash_in_the_marts_equals_the_api_totals(platform):
    totals = _totals(platform)
    with _warehouse(platform) as warehouse:
        daily = warehouse.execute(
            "select sum(charged_amount) * 100, sum(refunded_amount) * 100,"
            " sum(net_cash_amount) * 100 from fct_daily_cash_revenue"
        ).fetchone()
        per_order = warehouse.execute(
            "select sum(charged_amount) * 100, sum(refunded_amount) * 100 from fct_payment_reconciliation"
        ).fetchone()
    assert tuple(int(v) for v in daily) == (
        totals["charged_amount"],
        totals["refunded_amount"],
        totals["net_amount"],
    )
    assert tuple(int(v) for v in per_order) == (
        totals["charged_amount"],
        totals["refunded_amount"],
    )


def test_every_outcome_appears_in_the_reconciliation(platform):
    with _warehouse(platform) as warehouse:
        statuses = dict(
            warehouse.execute("select payment_status, count(*) from fct_payment_reconciliation group by 1").fetchall()
        )
    assert {"paid", "unpaid", "failed", "refunded", "partially_refunded"} <= set(statuses)


def test_partner_rows_equal_loaded_plus_quarantined(platform):
    landing = Path(partners.landing_url(platform["settings"]))
    unique: dict[str, Path] = {}
    for path in sorted(landing.glob("*/*.csv")):
        unique.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path)
    delivered = sum(sum(1 for line in path.read_text().splitlines()[1:] if line.strip()) for path in unique.values())
    raw = platform["settings"].zone_url("raw", "partners")
    with _warehouse(platform) as warehouse:
        loaded = warehouse.execute(
            f"select count(*) from read_parquet('{raw}/partner_inventory/*.parquet')"
        ).fetchone()[0]
        quarantined, files, duplicates, recorded = warehouse.execute(
            "select (select count(*) from stg_partners__rejected_rows),"
            " (select count(*) from stg_partners__files),"
            " (select count(*) from stg_partners__files where file_status = 'duplicate'),"
            " (select sum(data_row_count) from stg_partners__files)"
        ).fetchone()
    assert quarantined > 0
    assert loaded + quarantined == delivered == recorded
    assert files == len(list(landing.glob("*/*.csv")))
    assert duplicates >= 2, "the copies delivered by the test must count as duplicates"


def test_redelivered_files_add_nothing_to_the_marts(platform):
    with _warehouse(platform) as warehouse:
        reports, distinct = warehouse.execute(
            "select count(*), count(distinct (supplier_id, part_id, report_date)) from stg_partners__stock_reports"
        ).fetchone()
        stock, offered = warehouse.execute(
            "select (select count(*) from fct_supplier_stock),"
            " (select count(*) from stg_shop__part_suppliers where supplier_id in"
            f" ({', '.join(str(s) for s in PARTNER_SUPPLIERS.values())}))"
        ).fetchone()
    assert reports == distinct
    assert stock == offered
