"""Web and app events of the shop's customers, delivered the way Kinesis Firehose does.

Every simulated day has browsing sessions (page views, product views, carts, abandoned
checkouts) and one buying session per shop order released that day, ending in an
``order_placed`` event that carries the order's ``o_orderkey``. Events are gzip JSON
lines in ``landing/clickstream/YYYY/MM/DD/HH/``, one file per hour of *arrival*.

The web shop went live on ``LAUNCH_DATE``: events start there, not in 1992, so SF 1
lands about 1 GB of JSON over the default history instead of 13 GB.

Faults, as a real stream has them: about 1% of events are delivered twice, about 2%
arrive late (up to three days after they happened, so in a later day's folder), and
about 0.1% of lines are broken (cut-off JSON, an unknown event type, a missing key, an
impossible timestamp).

Idempotence: producing day D writes exactly the files of D's 24 arrival hours. Their
content depends only on the seed and the events of days D-4..D (the latest any event can
arrive), so a day produced twice, or produced by ``init`` versus ``advance``, is
byte-identical.

With ``CLICKSTREAM_DELIVERY=kinesis`` the same lines are put to the Kinesis stream
``CLICKSTREAM_STREAM`` instead, and the ``clickstream`` pipeline lands them. A stream
cannot take records back, so there a day produced twice is delivered twice: the
processing job removes the repeated event ids and counts them as duplicates.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import fsspec

from ingestion.pipelines.clickstream import kinesis
from simulator.context import SimContext

log = logging.getLogger(__name__)

name = "clickstream"

LAUNCH_DATE = date(1998, 1, 1)
MAX_LATENESS = timedelta(days=3)
# A late event can arrive up to three days late and its duplicate up to two hours later.
ARRIVAL_DAYS = 4
BROWSE_SESSIONS_PER_ORDER = 10
ANONYMOUS_SHARE = 0.4
DUPLICATE_RATE = 0.01
LATE_RATE = 0.02
MALFORMED_RATE = 0.001
DEVICES = ("web", "web", "web", "ios", "android")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.{ms:03d}Z"


@dataclass(frozen=True)
class Delivery:
    arrival: datetime
    origin: date
    seq: int
    line: str


def init(ctx: SimContext) -> None:
    """Write every arrival hour from the launch up to the shop's clock."""
    end = ctx.clock()
    with _Generator(ctx) as gen:
        day = LAUNCH_DATE
        while day <= end:
            _write_day(ctx, day, gen.arrivals(day))
            day += timedelta(days=1)


def produce_day(ctx: SimContext, day: date) -> None:
    with _Generator(ctx) as gen:
        _write_day(ctx, day, gen.arrivals(day))


def landing_url(ctx: SimContext) -> str:
    return ctx.settings.zone_url("landing", name)


def hour_path(hour: datetime) -> str:
    return f"{hour:%Y/%m/%d/%H}/clickstream-1-{hour:%Y-%m-%d-%H}-00-00.json.gz"


def _write_day(ctx: SimContext, day: date, deliveries: list[Delivery]) -> None:
    if ctx.settings.clickstream_delivery == "kinesis":
        kinesis.put_lines(ctx.settings, [d.line for d in sorted(deliveries, key=_order)])
        return
    by_hour: dict[datetime, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_hour[delivery.arrival.replace(minute=0, second=0, microsecond=0)].append(delivery)
    fs, base = fsspec.core.url_to_fs(landing_url(ctx))
    for hour, rows in sorted(by_hour.items()):
        rows.sort(key=_order)
        payload = "".join(d.line + "\n" for d in rows).encode()
        path = f"{base}/{hour_path(hour)}"
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        # mtime=0 keeps the gzip header, and so the file, identical when a day is redone.
        fs.pipe_file(path, gzip.compress(payload, compresslevel=6, mtime=0))
    log.debug("clickstream %s: %d lines in %d files", day, len(deliveries), len(by_hour))


class _Generator:
    """Events per origin day, cached so that consecutive days reuse their neighbours."""

    def __init__(self, ctx: SimContext):
        self.ctx = ctx
        self.cache: dict[date, dict[date, list[Delivery]]] = {}

    def __enter__(self) -> _Generator:
        self.con = self.ctx.connect(read_only=True)
        self.max_custkey = self.con.execute("select max(c_custkey) from shop.customer").fetchone()[0]
        self.max_partkey = self.con.execute("select max(p_partkey) from shop.part").fetchone()[0]
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()

    def arrivals(self, day: date) -> list[Delivery]:
        """Every line that arrives on ``day``, whichever day its event happened."""
        out: list[Delivery] = []
        for back in range(ARRIVAL_DAYS, -1, -1):
            origin = day - timedelta(days=back)
            if origin < LAUNCH_DATE:
                continue
            if origin not in self.cache:
                self.cache[origin] = self._origin_day(origin)
            out.extend(self.cache[origin].get(day, []))
        for old in [d for d in self.cache if d < day - timedelta(days=ARRIVAL_DAYS)]:
            del self.cache[old]
        return out

    def _orders(self, day: date) -> list[tuple[int, int]]:
        return self.con.execute(
            "select o_orderkey, o_custkey from shop.orders where cast(o_orderdate as date) = ? order by o_orderkey",
            [day],
        ).fetchall()

    def _origin_day(self, day: date) -> dict[date, list[Delivery]]:
        rng = random.Random(f"{self.ctx.settings.seed}:clickstream:{day.isoformat()}")
        orders = self._orders(day)
        events: list[tuple[datetime, dict]] = []
        for orderkey, custkey in orders:
            events.extend(self._session(rng, day, custkey, order_id=orderkey))
        for _ in range(round(len(orders) * BROWSE_SESSIONS_PER_ORDER)):
            anonymous = rng.random() < ANONYMOUS_SHARE
            custkey = None if anonymous else rng.randint(1, self.max_custkey)
            events.extend(self._session(rng, day, custkey, order_id=None))
        by_arrival: dict[date, list[Delivery]] = defaultdict(list)
        for seq, (at, event) in enumerate(events):
            line = json.dumps(event, separators=(",", ":"))
            if rng.random() < MALFORMED_RATE:
                line = _break(rng, event, line)
            arrival = at + timedelta(seconds=rng.uniform(0.5, 120))
            if rng.random() < LATE_RATE:
                arrival = at + timedelta(seconds=rng.uniform(3600, MAX_LATENESS.total_seconds()))
            copies = [arrival]
            if rng.random() < DUPLICATE_RATE:
                copies.append(arrival + timedelta(seconds=rng.uniform(1, 7200)))
            for copy, when in enumerate(copies):
                by_arrival[when.date()].append(Delivery(when, day, seq * 2 + copy, line))
        return by_arrival

    def _session(self, rng: random.Random, day: date, custkey: int | None, order_id: int | None):
        """One visit; buying visits (``order_id``) always reach ``order_placed``."""
        visitor = f"c{custkey}" if custkey else f"a{rng.getrandbits(48):012x}"
        device = rng.choice(DEVICES)
        # Visits start by 22:00 so that a buying visit ends on the order's own date.
        at = datetime.combine(day, time()) + timedelta(seconds=rng.uniform(0, 22 * 3600))
        steps = ["page_view"] + ["product_view"] * rng.randint(1, 4)
        if order_id is not None:
            steps += ["add_to_cart"] * rng.randint(1, 2) + ["checkout_started", "order_placed"]
        elif rng.random() < 0.3:
            steps += ["add_to_cart"]
            if rng.random() < 0.4:
                steps += ["checkout_started"]
        part = None
        for step in steps:
            at += timedelta(seconds=rng.uniform(5, 240))
            if step == "product_view":
                part = rng.randint(1, self.max_partkey)
            event = {
                "event_id": f"{rng.getrandbits(128):032x}",
                "event_type": step,
                "event_at": _iso(at),
                "visitor_id": visitor,
                "customer_id": custkey,
                "device": device,
            }
            if step == "page_view":
                event["page_url"] = rng.choice(("/", "/deals", "/search", "/account"))
            if step in ("product_view", "add_to_cart"):
                event["part_id"] = part
            if step == "order_placed":
                event["order_id"] = order_id
            yield at, event


def _order(delivery: Delivery) -> tuple:
    return (delivery.arrival, delivery.origin, delivery.seq)


def _iso(at: datetime) -> str:
    return at.strftime(TIMESTAMP_FORMAT.format(ms=at.microsecond // 1000))


def _break(rng: random.Random, event: dict, line: str) -> str:
    kind = rng.choice(("truncated", "unknown_type", "missing_key", "bad_timestamp"))
    if kind == "truncated":
        return line[: len(line) // 2]
    broken = dict(event)
    if kind == "unknown_type":
        broken["event_type"] = "page_scroll"
    elif kind == "missing_key":
        del broken["event_id"]
    else:
        broken["event_at"] = event["event_at"].replace(event["event_at"][5:10], "02-30")
    return json.dumps(broken, separators=(",", ":"))
