"""The payments simulator, its HTTP API and the ``payments`` dlt pipeline, end to end.

Each test builds a real shop database (DuckDB's dbgen at SF 0.01) in a temporary
DATA_DIR, serves the real HTTP API on a free localhost port and lands real Parquet.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from ingestion.errors import PlatformError
from ingestion.pipelines.payments import pipeline as payments_pipeline
from ingestion.settings import load_settings
from marketplace import demo
from simulator import payments, payments_api, shop
from simulator.context import SimContext
from tests.conftest import BIN, ROOT, cli, platform_env

CUTOFF = shop.DEFAULT_CUTOFF
AUTH = {"Authorization": f"Bearer {payments_api.LOCAL_TOKEN}"}


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> SimContext:
    """A shop and a payments provider with history up to the cutoff (shared, read-only)."""
    return _build(tmp_path_factory.mktemp("payments-history"))


@pytest.fixture
def fresh(tmp_path) -> SimContext:
    """A shop and payments provider of the test's own, to load and advance."""
    return _build(tmp_path)


@pytest.fixture(autouse=True)
def _no_configured_api(monkeypatch):
    for name in ("SOURCES__PAYMENTS__BASE_URL", "SOURCES__PAYMENTS__TOKEN", "PAYMENTS_API_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


def _build(data_dir: Path) -> SimContext:
    settings = load_settings({"DATA_DIR": str(data_dir), "SF": "0.01"})
    ctx = SimContext(settings)
    shop.init(ctx, CUTOFF)
    payments.init(ctx)
    return ctx


def _store(ctx: SimContext) -> Path:
    return payments.store_path(ctx)


def _dump(ctx: SimContext) -> dict[str, list]:
    with closing(sqlite3.connect(_store(ctx))) as con:
        return {
            t: con.execute(f"select * from {t} order by id").fetchall()
            for t in ("charges", "refunds", "pending_refunds")
        }


def _raw(ctx: SimContext, table: str) -> str:
    return f"'{ctx.settings.zone_url('raw', 'payments', table)}/*.parquet'"


def _latest_charges(ctx: SimContext) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"select * from {_raw(ctx, 'charges')} qualify row_number() over (partition by id order by updated desc) = 1"
    )


def _list_all(url: str, path: str, **params) -> tuple[list[dict], int]:
    rows, pages, cursor = [], 0, None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{url}{path}", params=query, headers=AUTH, timeout=10).json()
        rows.extend(page["data"])
        pages += 1
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            return rows, pages


# -- the simulator ------------------------------------------------------------------------


def test_history_starts_at_go_live_and_covers_released_orders(history):
    first = payments.go_live_date(CUTOFF)
    with closing(sqlite3.connect(_store(history))) as con:
        days = con.execute("select min(day), max(day), count(distinct order_id) from charges").fetchone()
    con = history.connect(read_only=True)
    orders = con.execute(
        "select count(*) from shop.orders where cast(o_orderdate as date) between ? and ?",
        [first, CUTOFF],
    ).fetchone()[0]
    con.close()
    assert days[0] == first.isoformat()
    assert days[1] == CUTOFF.isoformat()
    # Some orders stay unpaid: fewer orders with charges than released orders, but most.
    assert 0.9 * orders < days[2] < orders


def test_history_has_every_kind_of_outcome(history):
    with closing(sqlite3.connect(_store(history))) as con:
        failed = con.execute("select count(*) from charges where status = 'failed'").fetchone()[0]
        partial, full = con.execute(
            "select count(*) filter (where r.amount < c.amount),"
            " count(*) filter (where r.amount = c.amount)"
            " from refunds as r join charges as c on c.id = r.charge"
        ).fetchone()
        late = con.execute(
            "select count(*) from refunds as r join charges as c on c.id = r.charge where r.day > c.day"
        ).fetchone()[0]
        not_yet = con.execute("select count(*) from pending_refunds where day > ?", [CUTOFF.isoformat()]).fetchone()[0]
        updated = con.execute(
            "select count(*) from charges where amount_refunded > 0 and updated > created"
        ).fetchone()[0]
    assert failed > 0
    assert partial > 0 and full > 0
    assert late > 0, "some refunds must arrive days after their charge"
    assert not_yet > 0, "refunds decided before the cutoff wait for their own day"
    assert updated == partial + full


def test_producing_a_day_twice_writes_the_same_rows(fresh):
    before = _dump(fresh)
    payments.produce_day(fresh, CUTOFF)
    payments.produce_day(fresh, CUTOFF - timedelta(days=3))
    assert _dump(fresh) == before


def test_same_seed_same_payments_other_seed_other_payments():
    order = payments.Order(order_id=7, customer_id=3, total_price=1234.56, day=CUTOFF)
    assert payments.decide(42, order) == payments.decide(42, order)
    orders = [replace(order, order_id=key) for key in range(50)]
    one = [payments.decide(1, o) for o in orders]
    two = [payments.decide(2, o) for o in orders]
    assert sum(a != b for a, b in zip(one, two, strict=True)) > 40


# -- the HTTP API -------------------------------------------------------------------------


def test_api_pages_through_every_charge_once(history):
    with payments_api.running(_store(history)) as server:
        rows, pages = _list_all(server.url, "/v1/charges", limit=100)
    totals = payments.totals(_store(history))
    assert len(rows) == totals["charge_count"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert pages == -(-len(rows) // 100)
    keys = [(r["updated"], r["id"]) for r in rows]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("path", "field"),
    [("/v1/charges", "updated"), ("/v1/charges", "created"), ("/v1/refunds", "created")],
    ids=["charges-updated", "charges-created", "refunds-created"],
)
def test_api_filters_by_time(history, path, field):
    with payments_api.running(_store(history)) as server:
        everything, _ = _list_all(server.url, path, limit=1000)
        middle = sorted(r[field] for r in everything)[len(everything) // 2]
        newer, _ = _list_all(server.url, path, limit=1000, **{f"{field}[gte]": middle})
        older, _ = _list_all(server.url, path, limit=1000, **{f"{field}[lt]": middle})
    assert newer and older
    assert all(r[field] >= middle for r in newer)
    assert len(newer) + len(older) == len(everything)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk_wrong"}, {"Authorization": payments_api.LOCAL_TOKEN}],
    ids=["no-token", "wrong-token", "not-bearer"],
)
def test_api_rejects_requests_without_the_token(history, headers):
    with payments_api.running(_store(history)) as server:
        response = requests.get(f"{server.url}/v1/charges", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_api_expires_old_cursors(history):
    faults = payments_api.Faults(cursor_ttl=0.2)
    with payments_api.running(_store(history), faults=faults) as server:
        first = requests.get(f"{server.url}/v1/charges", params={"limit": 10}, headers=AUTH, timeout=10).json()
        time.sleep(0.4)
        response = requests.get(
            f"{server.url}/v1/charges",
            params={"limit": 10, "cursor": first["next_cursor"]},
            headers=AUTH,
            timeout=10,
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cursor_expired"


def test_api_rate_limits_with_retry_after(history):
    faults = payments_api.Faults(rate_limit=0.5, retry_after=7)
    with payments_api.running(_store(history), faults=faults) as server:
        answers = [requests.get(f"{server.url}/v1/refunds", headers=AUTH, timeout=10) for _ in range(4)]
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) == 2
    assert all(a.headers["Retry-After"] == "7" for a in limited)


def test_api_totals_match_the_store(history):
    with payments_api.running(_store(history)) as server:
        served = requests.get(f"{server.url}/v1/reports/totals", headers=AUTH, timeout=10).json()
        charges, _ = _list_all(server.url, "/v1/charges", limit=1000)
        refunds, _ = _list_all(server.url, "/v1/refunds", limit=1000)
    assert served["charged_amount"] == sum(c["amount"] for c in charges if c["paid"])
    assert served["refunded_amount"] == sum(r["amount"] for r in refunds)
    assert served["net_amount"] == served["charged_amount"] - served["refunded_amount"]


# -- the pipeline -------------------------------------------------------------------------


def test_pipeline_lands_every_record_once_and_then_only_changes(fresh):
    first = demo.run_payments(fresh.settings, progress="log")
    totals = payments.totals(_store(fresh))
    assert first["rows"] == {"charges": totals["charge_count"], "refunds": totals["refund_count"]}
    again = demo.run_payments(fresh.settings)
    assert sum(again["rows"].values()) == 0

    shop.advance(fresh, 10)
    for offset in range(1, 11):
        payments.produce_day(fresh, CUTOFF + timedelta(days=offset))
    later = demo.run_payments(fresh.settings)
    totals = payments.totals(_store(fresh))
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
    with payments_api.running(_store(fresh), faults=faults) as server:
        summary = payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, page_size=200)
        requests_made = list(server.served.requests)
    totals = payments.totals(_store(fresh))
    assert summary["rows"] == {"charges": totals["charge_count"], "refunds": totals["refund_count"]}
    limited = [i for i, (_, _, status) in enumerate(requests_made) if status == 429]
    assert limited, "the run must have met rate limiting"
    for i in limited:
        at, path, _ = requests_made[i]
        retry_at = next(t for t, p, _ in requests_made[i + 1 :] if p == path)
        assert retry_at - at >= 0.95, "the retry came before Retry-After had passed"


def test_transient_faults_are_retried(fresh):
    faults = payments_api.Faults(server_errors=2, truncated_pages=2)
    with payments_api.running(_store(fresh), faults=faults) as server:
        summary = payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, backoff_factor=0.05)
        served = server.served
    totals = payments.totals(_store(fresh))
    assert served.count(503) == 2
    assert summary["rows"]["charges"] == totals["charge_count"]
    assert _latest_charges(fresh).aggregate("count(*)").fetchone()[0] == totals["charge_count"]


def test_bad_pages_fail_naming_the_page_and_load_nothing(fresh):
    faults = payments_api.Faults(garbage_pages=1000)
    bad_page = pytest.raises(PlatformError, match=r"payments API page http://127\.0\.0\.1:\d+/v1/")
    with payments_api.running(_store(fresh), faults=faults) as server, bad_page:
        payments_pipeline.run(fresh.settings, server.url, payments_api.LOCAL_TOKEN, max_attempts=2, backoff_factor=0.01)
    raw = Path(fresh.settings.zone_url("raw", "payments"))
    assert not list(raw.glob("*/*.parquet"))
    summary = demo.run_payments(fresh.settings)
    assert summary["rows"]["charges"] == payments.totals(_store(fresh))["charge_count"]


def test_an_expired_cursor_fails_naming_the_page_and_loads_nothing(fresh):
    faults = payments_api.Faults(cursor_ttl=0)
    expired = pytest.raises(PlatformError, match=r"page http://\S+cursor=\S+ failed: HTTP 400 cursor_expired")
    with payments_api.running(_store(fresh), faults=faults) as server, expired:
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


def test_serve_command_answers_on_its_port(fresh):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = platform_env(fresh.settings.data_dir)
    server = subprocess.Popen(
        [str(BIN / "marketplace"), "serve", "payments", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "payments API on http://127.0.0.1:" in server.stderr.readline()
        page = requests.get(f"http://127.0.0.1:{port}/v1/charges", params={"limit": 3}, headers=AUTH, timeout=10).json()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert len(page["data"]) == 3 and page["has_more"]
