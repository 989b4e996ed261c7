"""The simulated payments provider's HTTP API: auth, pagination, filters, faults, `serve`."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
import requests

from simulator import payments, payments_api
from tests.conftest import BIN, ROOT, platform_env

AUTH = {"Authorization": f"Bearer {payments_api.LOCAL_TOKEN}"}

pytestmark = pytest.mark.usefixtures("no_configured_payments_api")


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


def test_api_pages_through_every_charge_once(history):
    with payments_api.running(payments.store_path(history)) as server:
        rows, pages = _list_all(server.url, "/v1/charges", limit=100)
    totals = payments.totals(payments.store_path(history))
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
    with payments_api.running(payments.store_path(history)) as server:
        everything, _ = _list_all(server.url, path, limit=1000)
        middle = sorted(r[field] for r in everything)[len(everything) // 2]
        newer, _ = _list_all(server.url, path, limit=1000, **{f"{field}[gte]": middle})
        older, _ = _list_all(server.url, path, limit=1000, **{f"{field}[lt]": middle})
    assert newer and older
    assert all(r[field] >= middle for r in newer)
    assert len(newer) + len(older) == len(everything)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk_wrong"},
        {"Authorization": payments_api.LOCAL_TOKEN},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic x"},
        {"Authorization": f"Basic {payments_api.LOCAL_TOKEN}"},
        {"Authorization": f"Bearer {payments_api.LOCAL_TOKEN}x"},
        {"Authorization": f"Bearer {payments_api.LOCAL_TOKEN[:-1]}"},
    ],
    ids=[
        "no-token",
        "wrong-token",
        "not-bearer",
        "bearer-alone",
        "bearer-empty",
        "basic",
        "basic-with-the-token",
        "token-with-a-suffix",
        "token-prefix",
    ],
)
def test_api_rejects_requests_without_the_token(history, headers):
    with payments_api.running(payments.store_path(history)) as server:
        response = requests.get(f"{server.url}/v1/charges", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


@pytest.mark.parametrize(
    "limit",
    ["0", str(payments_api.MAX_PAGE_SIZE + 1), "-1", "many"],
    ids=["zero", "above-max", "negative", "not-a-number"],
)
def test_api_bounds_the_page_size(history, limit):
    with payments_api.running(payments.store_path(history)) as server:
        response = requests.get(f"{server.url}/v1/charges", params={"limit": limit}, headers=AUTH, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_api_expires_old_cursors(history):
    faults = payments_api.Faults(cursor_ttl=0.2)
    with payments_api.running(payments.store_path(history), faults=faults) as server:
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
    with payments_api.running(payments.store_path(history), faults=faults) as server:
        answers = [requests.get(f"{server.url}/v1/refunds", headers=AUTH, timeout=10) for _ in range(4)]
    limited = [a for a in answers if a.status_code == 429]
    assert len(limited) == 2
    assert all(a.headers["Retry-After"] == "7" for a in limited)


def test_api_totals_match_the_store(history):
    with payments_api.running(payments.store_path(history)) as server:
        served = requests.get(f"{server.url}/v1/reports/totals", headers=AUTH, timeout=10).json()
        charges, _ = _list_all(server.url, "/v1/charges", limit=1000)
        refunds, _ = _list_all(server.url, "/v1/refunds", limit=1000)
    assert served["charged_amount"] == sum(c["amount"] for c in charges if c["paid"])
    assert served["refunded_amount"] == sum(r["amount"] for r in refunds)
    assert served["net_amount"] == served["charged_amount"] - served["refunded_amount"]


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


@pytest.mark.parametrize(
    ("request_part", "status"),
    [("url", 414), ("header", 431), ("headers", 431)],
    ids=["request-line-over-64KiB", "header-line-over-64KiB", "over-100-headers"],
)
def test_api_bounds_the_request_size(history, request_part, status):
    """Oversized requests are refused before they reach the API's code, and the server goes on."""
    big = "x" * (70 * 1024)
    params, headers = {"limit": 10}, dict(AUTH)
    if request_part == "url":
        params["pad"] = big
    elif request_part == "header":
        headers["X-Pad"] = big
    else:
        headers.update({f"X-Pad-{n}": "x" for n in range(120)})
    with payments_api.running(payments.store_path(history)) as server:
        refused = requests.get(f"{server.url}/v1/charges", params=params, headers=headers, timeout=10)
        after = requests.get(f"{server.url}/v1/charges", params={"limit": 10}, headers=AUTH, timeout=10)
    assert refused.status_code == status
    assert after.status_code == 200 and len(after.json()["data"]) == 10
