"""Partner suppliers' daily inventory and price files, dropped into the lake's landing zone.

Each partner is a shop supplier that sends one CSV a day to
``$LAKE_URL/landing/partners/<partner>/<YYYY-MM-DD>.csv``: one row per part it supplies
(from the shop's ``partsupp``), with the quantity it has and its unit price today. The
feeds started ``HISTORY_DAYS`` before the cutoff.

The files are as messy as real ones: each partner writes its own header (case, order,
spaces), some files have blank lines, about one row in a hundred has a bad number, a
``lead_time_days`` column appears part-way through history, and now and then a partner
delivers yesterday's file again under another name. Everything follows from the seed,
the partner and the day, so producing a day twice writes the same bytes.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import fsspec

from ingestion.settings import Settings
from simulator.context import SimContext

name = "partners"

HISTORY_DAYS = 60
# The day (counted from the first file) on which partners start sending lead times.
LEAD_TIME_FROM_DAY = 30
BAD_ROW_RATE = 0.012
BLANK_LINES_RATE = 0.2
REDELIVERY_RATE = 0.07

# partner → (shop supplier key, header of each canonical column, column order, lead times?)
PARTNERS: dict[str, dict] = {
    "acme": {
        "supplier_id": 1,
        "header": {
            "part_id": "part_id",
            "qty_available": "qty_available",
            "unit_price": "unit_price",
            "lead_time_days": "lead_time_days",
        },
        "order": ("part_id", "qty_available", "unit_price", "lead_time_days"),
    },
    "globex": {
        "supplier_id": 2,
        "header": {
            "part_id": "PART_ID",
            "qty_available": " Qty Available",
            "unit_price": " Unit Price ",
            "lead_time_days": "Lead Time Days",
        },
        "order": ("unit_price", "part_id", "lead_time_days", "qty_available"),
    },
    "initech": {
        "supplier_id": 3,
        "header": {
            "part_id": "Part Id",
            "qty_available": "QTY_AVAILABLE",
            "unit_price": "Unit_Price",
            "lead_time_days": "LEAD_TIME_DAYS",
        },
        "order": ("part_id", "unit_price", "qty_available", "lead_time_days"),
    },
}
BAD_VALUES = {
    "part_id": ("abc", "", "-7"),
    "qty_available": ("n/a", "-5", "12.5", ""),
    "unit_price": ("12,50", "free", "-3.00", ""),
}


def landing_url(settings: Settings, *parts: str) -> str:
    return settings.zone_url("landing", "partners", *parts)


def first_day(ctx: SimContext) -> date:
    return ctx.clock() - timedelta(days=HISTORY_DAYS - 1)


def init(ctx: SimContext) -> None:
    """Write every partner's files from the first feed day up to the shop's clock."""
    fs, root = fsspec.core.url_to_fs(landing_url(ctx.settings))
    if fs.exists(root):
        fs.rm(root, recursive=True)
    today = ctx.clock()
    start = today - timedelta(days=HISTORY_DAYS - 1)
    catalogue = _catalogue(ctx)
    for offset in range(HISTORY_DAYS):
        _write_day(ctx.settings, catalogue, start, start + timedelta(days=offset))


def produce_day(ctx: SimContext, day: date) -> None:
    _write_day(ctx.settings, _catalogue(ctx), _feed_start(ctx, day), day)


def _feed_start(ctx: SimContext, fallback: date) -> date:
    """The first feed day, kept on disk so that advances a month later agree with init."""
    fs, root = fsspec.core.url_to_fs(landing_url(ctx.settings))
    days = sorted(p.rsplit("/", 1)[-1][:10] for p in fs.glob(f"{root}/*/*.csv") if "-resend" not in p)
    return date.fromisoformat(days[0]) if days else fallback


def _catalogue(ctx: SimContext) -> dict[str, list[tuple[int, int, float]]]:
    """Per partner: (part key, quantity, supply cost) of every part it supplies."""
    con = ctx.connect(read_only=True)
    try:
        rows = con.execute(
            "select ps_suppkey, ps_partkey, ps_availqty, ps_supplycost from shop.partsupp"
            " where ps_suppkey in (select unnest(?)) order by ps_suppkey, ps_partkey",
            [[p["supplier_id"] for p in PARTNERS.values()]],
        ).fetchall()
    finally:
        con.close()
    by_supplier: dict[int, list] = {}
    for supplier, part, qty, cost in rows:
        by_supplier.setdefault(supplier, []).append((part, int(qty), float(cost)))
    return {partner: by_supplier.get(p["supplier_id"], []) for partner, p in PARTNERS.items()}


def render_file(seed: int, partner: str, parts, start: date, day: date) -> bytes:
    """The bytes of one partner's file for one day."""
    spec = PARTNERS[partner]
    rng = random.Random(f"{seed}:partners:{partner}:{day.isoformat()}")
    columns = [c for c in spec["order"] if c != "lead_time_days" or (day - start).days >= LEAD_TIME_FROM_DAY]
    lines = [",".join(spec["header"][c] for c in columns)]
    for part, qty, cost in parts:
        values = {
            "part_id": str(part),
            "qty_available": str(max(0, qty + rng.randint(-400, 400))),
            "unit_price": f"{cost * (0.9 + 0.2 * rng.random()):.2f}",
            "lead_time_days": str(rng.randint(1, 30)),
        }
        if rng.random() < BAD_ROW_RATE:
            column = rng.choice(sorted(BAD_VALUES))
            values[column] = rng.choice(BAD_VALUES[column])
        lines.append(",".join(values[c] for c in columns))
    if rng.random() < BLANK_LINES_RATE and len(lines) > 2:
        lines.insert(rng.randint(1, len(lines) - 1), "")
        lines.append("")
    return ("\r\n".join(lines) + "\r\n").encode()


def _write_day(settings: Settings, catalogue, start: date, day: date) -> None:
    for partner, parts in catalogue.items():
        fs, folder = fsspec.core.url_to_fs(landing_url(settings, partner))
        fs.makedirs(folder, exist_ok=True)
        fs.pipe_file(f"{folder}/{day.isoformat()}.csv", render_file(settings.seed, partner, parts, start, day))
        rng = random.Random(f"{settings.seed}:partners:{partner}:{day.isoformat()}:redelivery")
        yesterday = day - timedelta(days=1)
        if yesterday >= start and rng.random() < REDELIVERY_RATE:
            again = render_file(settings.seed, partner, parts, start, yesterday)
            fs.pipe_file(f"{folder}/{yesterday.isoformat()}-resend.csv", again)
