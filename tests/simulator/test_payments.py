"""The simulated payments provider: history since go-live, every outcome, determinism."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import timedelta

from simulator import payments
from simulator.context import SimContext
from tests.simulator.conftest import CUTOFF


def _dump(ctx: SimContext) -> dict[str, list]:
    with closing(sqlite3.connect(payments.store_path(ctx))) as con:
        return {
            t: con.execute(f"select * from {t} order by id").fetchall()
            for t in ("charges", "refunds", "pending_refunds")
        }


def test_history_starts_at_go_live_and_covers_released_orders(history):
    first = payments.go_live_date(CUTOFF)
    with closing(sqlite3.connect(payments.store_path(history))) as con:
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
    with closing(sqlite3.connect(payments.store_path(history))) as con:
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
