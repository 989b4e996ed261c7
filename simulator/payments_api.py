"""A Stripe-like HTTP API over the payments provider's store.

Endpoints (all ``GET``, bearer-token auth):

- ``/v1/charges``: charges ordered by ``(updated, id)``; filters ``updated[gte]``,
  ``updated[lt]``, ``created[gte]``, ``created[lt]`` (Unix seconds);
- ``/v1/refunds``: refunds ordered by ``(created, id)``; filters ``created[gte|lt]``;
- ``/v1/reports/totals``: the provider's own totals, for reconciliation.

Lists take ``limit`` (1 to ``MAX_PAGE_SIZE``) and ``cursor``, and answer
``{"object": "list", "data": [...], "has_more": bool, "next_cursor": str | null}``. The
cursor is opaque (the sort key of the last row and when it was issued) and expires after
``cursor_ttl`` seconds, as real APIs' cursors do. Stripe caps ``limit`` at 100; this API
allows up to 1,000 so that SF 1 history loads in seconds rather than minutes.

``Faults`` makes the server misbehave the way real ones do: 429 with ``Retry-After`` on a
share of requests, a burst of 503s, truncated or non-JSON pages.
"""

from __future__ import annotations

import base64
import hmac
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from simulator import payments

# Only ever accepted by the local simulator; a real deployment sets PAYMENTS_API_TOKEN.
LOCAL_TOKEN = "sk_test_local_simulator"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_CURSOR_TTL = 600

LISTS = {
    "/v1/charges": ("charges", "updated", ("updated", "created")),
    "/v1/refunds": ("refunds", "created", ("created",)),
}


@dataclass
class Faults:
    """How the server misbehaves; the default is a well-behaved server."""

    rate_limit: float = 0.0  # share of requests answered 429
    retry_after: int = 1  # seconds, sent in Retry-After with every 429
    server_errors: int = 0  # the first N list requests answer 503
    truncated_pages: int = 0  # the first N data pages are cut off mid-JSON
    garbage_pages: int = 0  # the first N data pages are HTML, not JSON
    repeated_pages: int = 0  # the first N pages followed by another are served twice (their next_cursor points back)
    cursor_ttl: float = DEFAULT_CURSOR_TTL


@dataclass
class Served:
    """What the server did, for tests and benchmarks."""

    requests: list[tuple[float, str, int]] = field(default_factory=list)

    def count(self, status: int) -> int:
        return sum(1 for _, _, code in self.requests if code == status)


class PaymentsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, store: Path, token: str, faults: Faults | None = None):
        super().__init__(address, Handler)
        self.store = store
        self.token = token
        self.faults = faults or Faults()
        self.served = Served()
        self._lock = threading.Lock()
        self._list_requests = 0
        self._data_pages = 0
        self._repeated: set[tuple] = set()

    def authorized(self, header: str | None) -> bool:
        """Whether an Authorization header carries this server's bearer token.

        Compared in constant time (``hmac.compare_digest``), so how long a refusal takes
        says nothing about how much of a guessed token was right.
        """
        expected = f"Bearer {self.token}".encode()
        return hmac.compare_digest((header or "").encode(), expected)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def next_fault(self) -> tuple[int, str | None]:
        """(HTTP status to force, page corruption) for the next list request."""
        with self._lock:
            self._list_requests += 1
            n = self._list_requests
            faults = self.faults
            if n <= faults.server_errors:
                return HTTPStatus.SERVICE_UNAVAILABLE, None
            if faults.rate_limit > 0:
                every = max(1, round(1 / faults.rate_limit))
                if n % every == 0:
                    return HTTPStatus.TOO_MANY_REQUESTS, None
            self._data_pages += 1
            if self._data_pages <= faults.garbage_pages:
                return HTTPStatus.OK, "garbage"
            if self._data_pages <= faults.garbage_pages + faults.truncated_pages:
                return HTTPStatus.OK, "truncated"
            return HTTPStatus.OK, None

    def repeat_page(self, page: tuple) -> bool:
        """Whether this page's next_cursor should lead back to the page itself (once per page)."""
        with self._lock:
            if page in self._repeated or len(self._repeated) >= self.faults.repeated_pages:
                return False
            self._repeated.add(page)
            return True

    def record(self, path: str, status: int) -> None:
        with self._lock:
            self.served.requests.append((time.monotonic(), path, status))


class Handler(BaseHTTPRequestHandler):
    server: PaymentsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if not self.server.authorized(self.headers.get("Authorization")):
            self.fail(url.path, HTTPStatus.UNAUTHORIZED, "authentication_error", "Invalid API key")
            return
        if url.path == "/v1/reports/totals":
            self.send_json(url.path, HTTPStatus.OK, payments.totals(self.server.store))
            return
        if url.path not in LISTS:
            self.fail(url.path, HTTPStatus.NOT_FOUND, "invalid_request_error", "Unknown path")
            return
        status, corruption = self.server.next_fault()
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            self.fail(url.path, status, "api_error", "Service temporarily unavailable")
            return
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            headers = {"Retry-After": str(self.server.faults.retry_after)}
            self.fail(url.path, status, "rate_limit_error", "Too many requests", headers)
            return
        try:
            page = self.list_page(url.path, parse_qs(url.query))
        except BadRequest as exc:
            self.fail(url.path, HTTPStatus.BAD_REQUEST, "invalid_request_error", str(exc), code=exc.code)
            return
        body = json.dumps(page).encode()
        if corruption == "truncated":
            body = body[: len(body) // 2]
        elif corruption == "garbage":
            body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_body(url.path, HTTPStatus.OK, body)

    def list_page(self, path: str, query: dict[str, list[str]]) -> dict:
        table, sort_key, filterable = LISTS[path]
        limit = int_param(query, "limit", DEFAULT_PAGE_SIZE)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        where, args = [], []
        for column in filterable:
            for op, sql in (("gte", ">="), ("lt", "<")):
                value = query.get(f"{column}[{op}]")
                if value:
                    where.append(f"{column} {sql} ?")
                    args.append(int_param(query, f"{column}[{op}]", 0))
        page = (path, None)
        if query.get("cursor"):
            after_key, after_id = decode_cursor(query["cursor"][0], self.server.faults.cursor_ttl)
            page = (path, None) if after_key == -1 else (path, after_key, after_id)
            where.append(f"({sort_key}, id) > (?, ?)")
            args.extend([after_key, after_id])
        sql = f"select * from {table}"
        if where:
            sql += " where " + " and ".join(where)
        sql += f" order by {sort_key}, id limit ?"
        with closing(sqlite3.connect(self.server.store, timeout=30)) as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(sql, [*args, limit + 1]).fetchall()
        has_more = len(rows) > limit
        data = [render(table, row) for row in rows[:limit]]
        last = data[-1] if has_more else None
        next_cursor = encode_cursor(last[sort_key], last["id"]) if last else None
        if last and self.server.repeat_page(page):
            # Back to this page: its own cursor, or one before every row for the first page.
            next_cursor = query["cursor"][0] if query.get("cursor") else encode_cursor(-1, "")
        return {
            "object": "list",
            "url": path,
            "has_more": has_more,
            "data": data,
            "next_cursor": next_cursor,
        }

    def fail(self, path, status, kind, message, headers=None, code=None) -> None:
        error = {"type": kind, "message": message}
        if code:
            error["code"] = code
        self.send_json(path, status, {"error": error}, headers)

    def send_json(self, path, status, payload, headers=None) -> None:
        self.send_body(path, status, json.dumps(payload).encode(), headers)

    def send_body(self, path, status, body: bytes, headers=None) -> None:
        self.server.record(path, int(status))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class BadRequest(Exception):
    def __init__(self, message: str, code: str = "parameter_invalid"):
        super().__init__(message)
        self.code = code


def render(table: str, row: sqlite3.Row) -> dict:
    if table == "charges":
        return {
            "id": row["id"],
            "object": "charge",
            "amount": row["amount"],
            "amount_refunded": row["amount_refunded"],
            "currency": row["currency"],
            "customer": row["customer"],
            "status": row["status"],
            "paid": row["status"] == "succeeded",
            "refunded": row["amount_refunded"] >= row["amount"] and row["status"] == "succeeded",
            "failure_code": row["failure_code"],
            "created": row["created"],
            "updated": row["updated"],
            "metadata": {"order_id": str(row["order_id"])},
        }
    return {
        "id": row["id"],
        "object": "refund",
        "amount": row["amount"],
        "charge": row["charge"],
        "currency": "usd",
        "reason": row["reason"],
        "status": row["status"],
        "created": row["created"],
    }


def int_param(query: dict[str, list[str]], key: str, default: int) -> int:
    values = query.get(key)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError as exc:
        raise BadRequest(f"{key} must be an integer") from exc


def encode_cursor(key: int, last_id: str) -> str:
    raw = json.dumps([key, last_id, time.time()]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str, ttl: float) -> tuple[int, str]:
    try:
        key, last_id, issued = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise BadRequest("cursor is not valid", "cursor_invalid") from exc
    if time.time() - issued > ttl:
        raise BadRequest("cursor has expired; restart the listing", "cursor_expired")
    return key, last_id


@contextmanager
def running(
    store: Path, token: str = LOCAL_TOKEN, faults: Faults | None = None, port: int = 0
) -> Iterator[PaymentsServer]:
    """Serve ``store`` on 127.0.0.1 (a free port unless given) in a background thread."""
    server = PaymentsServer(("127.0.0.1", port), store, token, faults)
    thread = threading.Thread(target=server.serve_forever, name="payments-api", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
