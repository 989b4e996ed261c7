"""The payments provider: charges and refunds for the shop's released orders.

The provider's own records live in a SQLite file (``payments.db`` in the sources folder)
that the local HTTP API (``simulator.payments_api``) serves. The shop took its
first card payment ``GO_LIVE_DAYS`` before the cutoff: older orders were settled outside
this provider, which keeps the API at a realistic volume (about 56k charges at SF 1
instead of 1.5M) while every day after the cutoff is covered.

Everything an order's payment does is decided from the seed and the order alone, on the
order's day: unpaid orders, failed charges (sometimes retried), under- and over-payments,
and refunds, full or partial. A refund decided today may be released days later: it
waits in ``pending_refunds`` and moves to ``refunds`` on its own day, when the charge's
``amount_refunded`` and ``updated`` change too. Producing a day twice rewrites the same
rows, so a crashed advance is repaired by running it again.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from simulator.context import SimContext

name = "payments"

GO_LIVE_DAYS = 90
UNPAID_RATE = 0.03
FAILED_RATE = 0.06
RETRY_AFTER_FAILURE_RATE = 0.7
UNDERPAID_RATE = 0.02
OVERPAID_RATE = 0.01
REFUND_RATE = 0.05
FULL_REFUND_SHARE = 0.4
MAX_REFUND_DELAY_DAYS = 14
FAILURE_CODES = ("card_declined", "insufficient_funds", "expired_card")
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")

SCHEMA = """
create table if not exists charges (
    id text primary key, order_id integer not null, customer text not null,
    amount integer not null, amount_refunded integer not null, currency text not null,
    status text not null, failure_code text, created integer not null,
    updated integer not null, day text not null
);
create index if not exists charges_by_updated on charges (updated, id);
create index if not exists charges_by_day on charges (day);
create table if not exists pending_refunds (
    id text primary key, charge text not null, amount integer not null, reason text not null,
    created integer not null, charge_day text not null, day text not null
);
create index if not exists pending_by_day on pending_refunds (day);
create index if not exists pending_by_charge_day on pending_refunds (charge_day);
create table if not exists refunds (
    id text primary key, charge text not null, amount integer not null, reason text not null,
    status text not null, created integer not null, day text not null
);
create index if not exists refunds_by_created on refunds (created, id);
create index if not exists refunds_by_day on refunds (day);
create index if not exists refunds_by_charge on refunds (charge);
create table if not exists meta (key text primary key, value text not null);
"""


@dataclass(frozen=True)
class Order:
    order_id: int
    customer_id: int
    total_price: float
    day: date


def store_path(ctx_or_dir) -> Path:
    """The provider's SQLite file, given a SimContext or a sources folder."""
    sources_dir = getattr(getattr(ctx_or_dir, "settings", None), "sources_dir", ctx_or_dir)
    return Path(sources_dir) / "payments.db"


def connect_store(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.executescript(SCHEMA)
    return con


def go_live_date(cutoff: date) -> date:
    return cutoff - timedelta(days=GO_LIVE_DAYS - 1)


def init(ctx: SimContext) -> None:
    """Build the provider's history from the go-live date up to the shop's clock."""
    path = store_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    today = ctx.clock()
    first = go_live_date(today)
    orders = _released_orders(ctx, first, today)
    with closing(connect_store(path)) as con:
        con.execute("insert into meta values ('go_live_date', ?)", [first.isoformat()])
        for day in iter_days(first, today):
            _produce(con, ctx.settings.seed, day, orders.get(day, []))


def produce_day(ctx: SimContext, day: date) -> None:
    orders = _released_orders(ctx, day, day)
    with closing(connect_store(store_path(ctx))) as con:
        _produce(con, ctx.settings.seed, day, orders.get(day, []))


def _released_orders(ctx: SimContext, first: date, last: date) -> dict[date, list[Order]]:
    con = ctx.connect(read_only=True)
    try:
        rows = con.execute(
            """
            select o_orderkey, o_custkey, o_totalprice, cast(o_orderdate as date)
            from shop.orders
            where cast(o_orderdate as date) between ? and ?
            order by o_orderkey
            """,
            [first, last],
        ).fetchall()
    finally:
        con.close()
    by_day: dict[date, list[Order]] = {}
    for order_id, customer_id, total_price, day in rows:
        by_day.setdefault(day, []).append(Order(order_id, customer_id, float(total_price), day))
    return by_day


def _produce(con: sqlite3.Connection, seed: int, day: date, orders: Iterable[Order]) -> None:
    """Write one day in one transaction: that day's charges, decided and released refunds."""
    iso = day.isoformat()
    charges, pending = [], []
    for order in orders:
        order_charges, order_refunds = decide(seed, order)
        charges.extend(order_charges)
        pending.extend(order_refunds)
    con.execute("begin immediate")
    try:
        con.execute("delete from charges where day = ?", [iso])
        con.executemany(
            "insert into charges values (:id, :order_id, :customer, :amount, 0, 'usd', :status,"
            " :failure_code, :created, :created, :day)",
            charges,
        )
        con.execute("delete from pending_refunds where charge_day = ?", [iso])
        con.executemany(
            "insert into pending_refunds values (:id, :charge, :amount, :reason, :created, :charge_day, :day)",
            pending,
        )
        con.execute("delete from refunds where day = ?", [iso])
        con.execute(
            "insert into refunds select id, charge, amount, reason, 'succeeded', created, day"
            " from pending_refunds where day = ?",
            [iso],
        )
        # A charge shows what has been refunded so far; its `updated` moves with each refund.
        con.execute(
            """
            update charges set
                amount_refunded = coalesce(
                    (select sum(amount) from refunds where refunds.charge = charges.id), 0),
                updated = max(created, coalesce(
                    (select max(created) from refunds where refunds.charge = charges.id), 0))
            where day = :day or id in (select charge from refunds where day = :day)
            """,
            {"day": iso},
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def decide(seed: int, order: Order) -> tuple[list[dict], list[dict]]:
    """Every charge and refund of one order, from the seed and the order alone."""
    rng = random.Random(f"{seed}:payments:{order.order_id}")
    midnight = int(datetime(order.day.year, order.day.month, order.day.day, tzinfo=UTC).timestamp())
    due = round(order.total_price * 100)
    at = midnight + rng.randint(0, 20 * 3600)
    charges: list[dict] = []
    if rng.random() < UNPAID_RATE:
        return charges, []
    attempt = 0

    def charge(status: str, amount: int, failure_code: str | None) -> dict:
        return {
            "id": f"ch_{order.order_id}_{attempt}",
            "order_id": order.order_id,
            "customer": f"cus_{order.customer_id}",
            "amount": amount,
            "status": status,
            "failure_code": failure_code,
            "created": at,
            "day": order.day.isoformat(),
        }

    if rng.random() < FAILED_RATE:
        charges.append(charge("failed", due, rng.choice(FAILURE_CODES)))
        if rng.random() >= RETRY_AFTER_FAILURE_RATE:
            return charges, []
        attempt += 1
        at += rng.randint(60, 3000)
    amount = due
    mistake = rng.random()
    if mistake < UNDERPAID_RATE:
        amount = due - rng.randint(1, max(1, due // 10))
    elif mistake < UNDERPAID_RATE + OVERPAID_RATE:
        amount = due + rng.randint(100, 5000)
    paid = charge("succeeded", amount, None)
    charges.append(paid)
    if rng.random() >= REFUND_RATE:
        return charges, []
    refund_amount = amount if rng.random() < FULL_REFUND_SHARE else rng.randint(1, amount - 1)
    delay = rng.choice((0, 0, 1, 2, 3)) if rng.random() < 0.5 else rng.randint(4, MAX_REFUND_DELAY_DAYS)
    refund_day = order.day + timedelta(days=delay)
    refund_at = at + delay * 86400 + rng.randint(60, 3 * 3600)
    refund = {
        "id": f"re_{order.order_id}_{attempt}",
        "charge": paid["id"],
        "amount": refund_amount,
        "reason": rng.choice(REFUND_REASONS),
        "created": refund_at,
        "charge_day": order.day.isoformat(),
        "day": refund_day.isoformat(),
    }
    return charges, [refund]


def totals(path: Path) -> dict[str, int]:
    """The provider's own totals, the figures reconciliation checks the lake against."""
    with closing(sqlite3.connect(path)) as con:
        charges, succeeded, charged, refunded_on_charges = con.execute(
            "select count(*), count(*) filter (where status = 'succeeded'),"
            " coalesce(sum(amount) filter (where status = 'succeeded'), 0),"
            " coalesce(sum(amount_refunded), 0) from charges"
        ).fetchone()
        refunds, refunded = con.execute("select count(*), coalesce(sum(amount), 0) from refunds").fetchone()
    return {
        "charge_count": charges,
        "succeeded_charge_count": succeeded,
        "charged_amount": charged,
        "refund_count": refunds,
        "refunded_amount": refunded,
        "amount_refunded_on_charges": refunded_on_charges,
        "net_amount": charged - refunded,
    }


def iter_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
