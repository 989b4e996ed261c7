"""The ``payments`` dlt pipeline against the simulated HTTP API: increments, retries, failures.

Each test builds a real shop database (DuckDB's dbgen at SF 0.01) in a temporary
DATA_DIR, serves the real HTTP API on a free localhost port and lands real Parquet.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.errors import PlatformError
from ingestion.pipelines.payments import pipeline as payments_pipeline
from marketplace import demo
from simulator import payments, payments_api, shop
from simulator.context import SimContext
from tests.conftest import cli, platform_env
from tests.simulator.conftest import CUTOFF

pytestmark = pytest.mark.usefixtures("no_configured_payments_api")


def _raw(ctx: SimContext, table: str) -> str:
    return f"'{ctx.settings.zone_url('raw', 'payments', table)}/*.parquet'"


def _latest_charges(ctx: SimContext) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"select * from {_raw(ctx, 'charges')} qualify row_number() over (partition by id order by updated desc) = 1"
    )


def test_pipeline_lands_every_record_once_and_then_only_changes(fresh):
    first = demo.run_payments(fresh.settings, progress="log")
    totals = payments.totals(payments.store_path(fresh))
    assert first["rows"] == {"charges": totals["charge_count"], "refunds": totals["refund_count"]}
    again = demo.run_payments(fresh.settings)
    assert sum(again["rows"].values()) == 0

    shop.advance(fresh, 10)
    for offset in range(1, 11):
        payments.produce_day(fresh, CUTOFF + timedelta(days=offset))
    later = demo.run_payments(fresh.settings)
    totals = payments.totals(payments.store_path(fresh))
    latest = _latest_charges(fresh)
    count, succeeded, refunded = latest.aggregate(
        "count(*), sum(amount) filter (where status = 'succeeded'), sum(amount_refunded)"
    ).fetchone()
    refunds = duckdb.sql(f"select count(*), sum(amount) from {_raw(fresh, 'refunds')}").fetchone()
    assert later["rows"]["charges"] > 0
    # A refund released after the first load makes a new version of its charge.
    versions = duckdb.sql(f"select count(*) from {_raw(fresh, 'charges')}").fetchone()[0]
    assert versions > count
    assert (count, succeeded, refunded) == (
        totals["charge_count"],
        totals["charged_amount"],
        totals["amount_refunded_on_charges"],
    )
    assert refunds == (totals["refund_count"], totals["refunded_amount"])


def test_rate_limited_load_waits_as_told_and_lands_everything(fresh):
    faults = payments_api.Faults(rate_limit=0.34, retry_after=1)
    with payments_api.running(payments.store_path(fresh), faults=faults) as server:
        summary = payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, page_size=200)
        requests_made = list(server.served.requests)
    totals = payments.totals(payments.store_path(fresh))
    assert summary["rows"] == {"charges": totals["charge_count"], "refunds": totals["refund_count"]}
    limited = [i for i, (_, _, status) in enumerate(requests_made) if status == 429]
    assert limited, "the run must have met rate limiting"
    for i in limited:
        at, path, _ = requests_made[i]
        retry_at = next(t for t, p, _ in requests_made[i + 1 :] if p == path)
        assert retry_at - at >= 0.95, "the retry came before Retry-After had passed"


def test_transient_faults_are_retried(fresh):
    faults = payments_api.Faults(server_errors=2, truncated_pages=2)
    with payments_api.running(payments.store_path(fresh), faults=faults) as server:
        summary = payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, backoff_factor=0.05)
        served = server.served
    totals = payments.totals(payments.store_path(fresh))
    assert served.count(503) == 2
    assert summary["rows"]["charges"] == totals["charge_count"]
    assert _latest_charges(fresh).aggregate("count(*)").fetchone()[0] == totals["charge_count"]


def test_bad_pages_fail_naming_the_page_and_load_nothing(fresh):
    faults = payments_api.Faults(garbage_pages=1000)
    bad_page = pytest.raises(PlatformError, match=r"payments API page http://127\.0\.0\.1:\d+/v1/")
    with payments_api.running(payments.store_path(fresh), faults=faults) as server, bad_page:
        payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, max_attempts=2, backoff_factor=0.01)
    raw = Path(fresh.settings.zone_url("raw", "payments"))
    assert not list(raw.glob("*/*.parquet"))
    summary = demo.run_payments(fresh.settings)
    assert summary["rows"]["charges"] == payments.totals(payments.store_path(fresh))["charge_count"]


def test_an_expired_cursor_fails_naming_the_page_and_loads_nothing(fresh):
    faults = payments_api.Faults(cursor_ttl=0)
    expired = pytest.raises(PlatformError, match=r"page http://\S+cursor=\S+ failed: HTTP 400 cursor_expired")
    with payments_api.running(payments.store_path(fresh), faults=faults) as server, expired:
        payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, page_size=50)
    assert not list(Path(fresh.settings.zone_url("raw", "payments")).glob("*/*.parquet"))


def test_wrong_token_fails_at_once(fresh, monkeypatch):
    monkeypatch.setenv("SOURCES__PAYMENTS__TOKEN", "sk_live_not_this_one")
    started = time.monotonic()
    with pytest.raises(PlatformError, match=r"rejected the token .*SOURCES__PAYMENTS__TOKEN"):
        demo.run_payments(fresh.settings)
    assert time.monotonic() - started < 5
    assert not Path(fresh.settings.zone_url("raw", "payments")).exists()


def test_cli_reports_a_wrong_token_in_one_line(fresh):
    env = platform_env(fresh.settings.data_dir, SOURCES__PAYMENTS__TOKEN="sk_wrong")
    proc = cli(env, "ingest", "payments", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1
    assert len(lines) == 1 and lines[0].startswith("error: the payments API at http://127.0.0.1:")
    assert "rejected the token" in lines[0]
