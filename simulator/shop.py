"""The shop: the marketplace's operational database, simulated from TPC-H.

DuckDB's TPC-H dbgen generates the whole dataset once per scale factor (the
"universe", cached in ``$DATA_DIR/sources/tpch_sf<SF>.duckdb``). The shop database
(SQLite, or Postgres when ``SHOP_DB_URL`` says so) then receives it as an operational
system would: orders and their lines appear on their ``o_orderdate``; an order's
fulfilment status moves placed → shipped → delivered as its lines ship and arrive; a
customer's loyalty tier rises with their order count. Every change bumps ``updated_at``.

The state of every row on simulated day D is a pure function of the universe, the seed
and D, so init and advance are deterministic, and the TPC-H columns are copied verbatim:
once the clock passes 1998-08-02 the shop's TPC-H columns equal dbgen's output exactly.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.pipelines.shop.helpers import first_line
from ingestion.pipelines.shop.settings import OPTIONAL_COLUMNS
from simulator.context import CLOCK_TABLE, SHOP, SimContext

log = logging.getLogger(__name__)

FIRST_ORDER_DATE = date(1992, 1, 1)
LAST_ORDER_DATE = date(1998, 8, 2)
DEFAULT_CUTOFF = date(1998, 7, 1)
# Rows that never change (regions, parts, ...) carry the shop's go-live time.
EPOCH = "1992-01-01 00:00:00"
# A customer's tier after their 5th, 10th and 20th order.
TIER_STEPS = ((5, "silver"), (10, "gold"), (20, "platinum"))

# Column types of the shop database, in TPC-H column order, plus the simulator's columns.
KEY, MONEY, INT, TEXT, DATE_, TS = "key", "money", "int", "text", "date", "ts"
TABLES: dict[str, dict[str, str]] = {
    "region": {"r_regionkey": KEY, "r_name": TEXT, "r_comment": TEXT},
    "nation": {"n_nationkey": KEY, "n_name": TEXT, "n_regionkey": KEY, "n_comment": TEXT},
    "part": {
        "p_partkey": KEY,
        "p_name": TEXT,
        "p_mfgr": TEXT,
        "p_brand": TEXT,
        "p_type": TEXT,
        "p_size": INT,
        "p_container": TEXT,
        "p_retailprice": MONEY,
        "p_comment": TEXT,
    },
    "supplier": {
        "s_suppkey": KEY,
        "s_name": TEXT,
        "s_address": TEXT,
        "s_nationkey": KEY,
        "s_phone": TEXT,
        "s_acctbal": MONEY,
        "s_comment": TEXT,
    },
    "partsupp": {
        "ps_partkey": KEY,
        "ps_suppkey": KEY,
        "ps_availqty": INT,
        "ps_supplycost": MONEY,
        "ps_comment": TEXT,
    },
    "customer": {
        "c_custkey": KEY,
        "c_name": TEXT,
        "c_address": TEXT,
        "c_nationkey": KEY,
        "c_phone": TEXT,
        "c_acctbal": MONEY,
        "c_mktsegment": TEXT,
        "c_comment": TEXT,
        "c_loyalty_tier": TEXT,
    },
    "orders": {
        "o_orderkey": KEY,
        "o_custkey": KEY,
        "o_orderstatus": TEXT,
        "o_totalprice": MONEY,
        "o_orderdate": DATE_,
        "o_orderpriority": TEXT,
        "o_clerk": TEXT,
        "o_shippriority": INT,
        "o_comment": TEXT,
        "o_fulfilment_status": TEXT,
    },
    "lineitem": {
        "l_orderkey": KEY,
        "l_partkey": KEY,
        "l_suppkey": KEY,
        "l_linenumber": INT,
        "l_quantity": MONEY,
        "l_extendedprice": MONEY,
        "l_discount": MONEY,
        "l_tax": MONEY,
        "l_returnflag": TEXT,
        "l_linestatus": TEXT,
        "l_shipdate": DATE_,
        "l_commitdate": DATE_,
        "l_receiptdate": DATE_,
        "l_shipinstruct": TEXT,
        "l_shipmode": TEXT,
        "l_comment": TEXT,
    },
}
PRIMARY_KEYS = {
    "region": ("r_regionkey",), "nation": ("n_nationkey",), "part": ("p_partkey",),
    "supplier": ("s_suppkey",), "partsupp": ("ps_partkey", "ps_suppkey"),
    "customer": ("c_custkey",), "orders": ("o_orderkey",),
    "lineitem": ("l_orderkey", "l_linenumber"),
}  # fmt: skip
SQL_TYPES = {
    "sqlite": {KEY: "INTEGER", MONEY: "REAL", INT: "INTEGER", TEXT: "TEXT",
               DATE_: "DATE", TS: "TIMESTAMP"},
    "postgres": {KEY: "BIGINT", MONEY: "NUMERIC(15,2)", INT: "INTEGER", TEXT: "VARCHAR",
                 DATE_: "DATE", TS: "TIMESTAMP"},
}  # fmt: skip
# The mutable attributes beyond TPC-H: the ones the shop pipeline takes as optional.
SIMULATOR_COLUMNS = {column for columns in OPTIONAL_COLUMNS.values() for column in columns}


# -- the universe ------------------------------------------------------------------------
def universe_path(ctx: SimContext) -> Path:
    """Where the generated dataset is cached; ``TPCH_CACHE_DIR`` shares it between data dirs."""
    cache = ctx.settings.tpch_cache_dir or ctx.settings.sources_dir
    return cache / f"tpch_sf{ctx.settings.sf:g}_seed{ctx.settings.seed}.duckdb"


def dbgen_steps(sf: float) -> int:
    """How many parts dbgen writes the SF in: one per unit of SF above 1 (the parts together
    are the same rows as one call; tests/simulator checks it)."""
    return max(1, math.ceil(sf))


def ensure_universe(ctx: SimContext) -> Path:
    """Generate TPC-H at the context's SF once, with the simulator's derived timelines."""
    path = universe_path(ctx)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".partial-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    started = time.monotonic()
    log.info("generating TPC-H at SF %g (dbgen)...", ctx.settings.sf)
    con = duck.connect(str(tmp), "tpch", settings=ctx.settings)
    try:
        with duck.out_of_memory(ctx.settings):
            steps = dbgen_steps(ctx.settings.sf)
            if steps == 1:
                con.execute(f"CALL dbgen(sf = {ctx.settings.sf})")
            for step in range(steps if steps > 1 else 0):
                # each step is its own statement and commit, so memory holds one step, not the SF
                con.execute(f"CALL dbgen(sf = {ctx.settings.sf}, children = {steps}, step = {step})")
            _derive_timelines(con, ctx.settings.seed)
    finally:
        con.close()
    os.replace(tmp, path)
    log.info("TPC-H generated in %.1fs", time.monotonic() - started)
    return path


def _derive_timelines(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """When each order is released, ships and arrives; when each customer's tier changes.

    Times of day come from a multiplicative hash of the key and the seed: deterministic
    and spread over the day without a random generator whose stream depends on row order.
    """

    def time_of_day(multiplier: int, salt: int) -> str:
        return f"to_seconds((o_orderkey * {multiplier} + {seed}::bigint * {salt}) % 86400)"

    con.execute(f"""
        create table order_timeline as
        with line_dates as (
            select l_orderkey, min(l_shipdate) as first_ship_date, max(l_receiptdate) as last_receipt_date
            from lineitem group by l_orderkey
        )
        select
            o_orderkey, o_custkey, o_orderdate,
            first_ship_date, last_receipt_date,
            o_orderdate + {time_of_day(2654435761, 40503)} as released_at,
            first_ship_date + {time_of_day(2246822519, 3266489917)} as shipped_at,
            last_receipt_date + {time_of_day(3266489917, 668265263)} as delivered_at,
            row_number() over (partition by o_custkey order by o_orderdate, o_orderkey) as customer_order_number
        from orders join line_dates on l_orderkey = o_orderkey
    """)
    steps = " ".join(f"when {n} then '{tier}'" for n, tier in TIER_STEPS)
    con.execute(f"""
        create table tier_changes as
        select o_custkey as c_custkey, o_orderdate as change_date, released_at as changed_at,
               case customer_order_number {steps} end as tier
        from order_timeline
        where customer_order_number in ({", ".join(str(n) for n, _ in TIER_STEPS)})
    """)


# -- the state of a row on day D ---------------------------------------------------------
def _orders_as_of(day: date, where: str) -> str:
    d = f"date '{day.isoformat()}'"
    return f"""
        select o.*,
            case when t.last_receipt_date <= {d} then 'delivered'
                 when t.first_ship_date <= {d} then 'shipped'
                 else 'placed' end as o_fulfilment_status,
            case when t.last_receipt_date <= {d} then t.delivered_at
                 when t.first_ship_date <= {d} then t.shipped_at
                 else t.released_at end as updated_at
        from tpch.orders as o join tpch.order_timeline as t using (o_orderkey)
        where {where}
    """


def _customers_as_of(day: date, where: str = "true") -> str:
    d = f"date '{day.isoformat()}'"
    return f"""
        with latest as (
            select c_custkey, arg_max(tier, changed_at) as tier, max(changed_at) as changed_at
            from tpch.tier_changes where change_date <= {d} group by c_custkey
        )
        select c.*, coalesce(latest.tier, 'bronze') as c_loyalty_tier,
               coalesce(latest.changed_at, timestamp '{EPOCH}') as updated_at
        from tpch.customer as c left join latest using (c_custkey)
        where {where}
    """


def _lines_released(where: str) -> str:
    return f"""
        select l.*, t.released_at as updated_at
        from tpch.lineitem as l join tpch.order_timeline as t on t.o_orderkey = l.l_orderkey
        where {where}
    """


# -- init ------------------------------------------------------------------------------
def init(ctx: SimContext, cutoff: date) -> None:
    """(Re)create the shop database with history up to and including ``cutoff``."""
    if not FIRST_ORDER_DATE <= cutoff <= LAST_ORDER_DATE:
        raise PlatformError(f"cutoff {cutoff} is outside TPC-H's order dates ({FIRST_ORDER_DATE} to {LAST_ORDER_DATE})")
    universe = ensure_universe(ctx)
    started = time.monotonic()
    if ctx.backend == "sqlite":
        _init_sqlite(ctx, universe, cutoff)
    else:
        _init_postgres(ctx, universe, cutoff)
    log.info("shop database ready at %s in %.1fs (history to %s)", ctx.redacted_url, time.monotonic() - started, cutoff)


def _ddl(backend: str) -> list[str]:
    types = SQL_TYPES[backend]
    statements = []
    for table, columns in TABLES.items():
        cols = [f"{name} {types[kind]} NOT NULL" for name, kind in columns.items()]
        cols.append(f"updated_at {types[TS]} NOT NULL")
        cols.append(f"PRIMARY KEY ({', '.join(PRIMARY_KEYS[table])})")
        statements.append(f"CREATE TABLE {table} ({', '.join(cols)})")
        # the dlt pipeline reads changes by updated_at
        statements.append(f"CREATE INDEX {table}_updated_at ON {table} (updated_at)")
    statements.append(f"CREATE TABLE {CLOCK_TABLE} (source TEXT PRIMARY KEY, sim_date DATE NOT NULL)")
    return statements


def _init_sqlite(ctx: SimContext, universe: Path, cutoff: date) -> None:
    """Build the SQLite file beside its final path and swap it in: never half-written."""
    final = Path(ctx.attach_target)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(final.name + ".partial")
        tmp.unlink(missing_ok=True)
        with sqlite3.connect(tmp) as native:
            for statement in _ddl("sqlite"):
                native.execute(statement)
    except OSError as exc:
        raise PlatformError(f"cannot write the shop database at {final}: {exc.strerror}") from exc
    con = duck.connect(":memory:", "sqlite_scanner", settings=ctx.settings)
    try:
        with duck.out_of_memory(ctx.settings):
            con.execute(f"ATTACH '{universe}' AS tpch (READ_ONLY)")
            con.execute(f"ATTACH '{tmp}' AS shop (TYPE sqlite)")
            _load_history(con, ctx, cutoff)
            con.execute("DETACH shop")
    finally:
        con.close()
    os.replace(tmp, final)


def _init_postgres(ctx: SimContext, universe: Path, cutoff: date) -> None:
    """Drop and rebuild the shop tables in one transaction: readers see old or new, not half."""
    con = duck.connect(":memory:", "postgres_scanner", settings=ctx.settings)
    try:
        try:
            con.execute(f"ATTACH '{ctx.attach_target}' AS shop (TYPE postgres)")
        except duckdb.Error as exc:
            raise PlatformError(f"cannot connect to the shop database {ctx.redacted_url}: {first_line(exc)}") from exc
        con.execute(f"ATTACH '{universe}' AS tpch (READ_ONLY)")
        con.execute("BEGIN")
        drops = [f"DROP TABLE IF EXISTS {t} CASCADE" for t in [*TABLES, CLOCK_TABLE]]
        for statement in drops + _ddl("postgres"):
            con.execute("CALL postgres_execute('shop', ?)", [statement])
        con.execute("COMMIT")
        # postgres_execute bypasses DuckDB's catalog cache; re-attach to see the new tables.
        con.execute("DETACH shop")
        con.execute(f"ATTACH '{ctx.attach_target}' AS shop (TYPE postgres)")
        _load_history(con, ctx, cutoff)
    finally:
        con.close()


def _insert(con: duckdb.DuckDBPyConnection, table: str, select: str) -> int:
    columns = [*TABLES[table], "updated_at"]
    names = ", ".join(columns)
    return con.execute(f"insert into shop.{table} ({names}) select {names} from ({select})").fetchone()[0]


def _load_history(con: duckdb.DuckDBPyConnection, ctx: SimContext, cutoff: date) -> None:
    con.execute("BEGIN")
    for table in ("region", "nation", "part", "supplier", "partsupp"):
        _insert(con, table, f"select *, timestamp '{EPOCH}' as updated_at from tpch.{table}")
    _insert(con, "customer", _customers_as_of(cutoff))
    n_orders = _insert(con, "orders", _orders_as_of(cutoff, f"o.o_orderdate <= date '{cutoff}'"))
    n_lines = _insert(con, "lineitem", _lines_released(f"t.o_orderdate <= date '{cutoff}'"))
    ctx.set_watermark(SHOP, cutoff, con)
    con.execute("COMMIT")
    log.info("shop history: %s orders, %s lines up to %s", f"{n_orders:,}", f"{n_lines:,}", cutoff)


# -- advance ---------------------------------------------------------------------------
def advance(ctx: SimContext, days: int) -> date:
    """Release ``days`` more days, one transaction per day (a crash loses at most that day)."""
    universe = ensure_universe(ctx)
    day = ctx.clock()
    con = ctx.connect()
    try:
        con.execute(f"ATTACH '{universe}' AS tpch (READ_ONLY)")
        for _ in range(days):
            day += timedelta(days=1)
            started = time.monotonic()
            con.execute("BEGIN")
            counts = release_day(con, day)
            ctx.set_watermark(SHOP, day, con)
            con.execute("COMMIT")
            log.info(
                "shop %s: %d new orders, %d new lines, %d orders and %d customers changed (%.1fs)",
                day,
                *counts,
                time.monotonic() - started,
            )
    finally:
        con.close()
    return day


def release_day(con: duckdb.DuckDBPyConnection, day: date) -> tuple[int, int, int, int]:
    """Apply day ``day`` to the attached shop: new orders and lines, status and tier changes."""
    d = f"date '{day.isoformat()}'"
    new_orders = _insert(con, "orders", _orders_as_of(day, f"o.o_orderdate = {d}"))
    new_lines = _insert(con, "lineitem", _lines_released(f"t.o_orderdate = {d}"))
    # Changed rows are replaced whole, inside the day's transaction: DuckDB's SQLite
    # writer cannot bind timestamps in an UPDATE, and the row's state on day D is known.
    moved = f"o.o_orderdate < {d} and (t.first_ship_date = {d} or t.last_receipt_date = {d})"
    changed_orders = _replace(con, "orders", "o_orderkey", _orders_as_of(day, moved))
    promoted = f"c_custkey in (select c_custkey from tpch.tier_changes where change_date = {d})"
    changed_customers = _replace(con, "customer", "c_custkey", _customers_as_of(day, promoted))
    return new_orders, new_lines, changed_orders, changed_customers


def _replace(con: duckdb.DuckDBPyConnection, table: str, key: str, select: str) -> int:
    con.execute(f"create or replace temp table changed_rows as {select}")
    con.execute(f"delete from shop.{table} where {key} in (select {key} from changed_rows)")
    return _insert(con, table, "select * from changed_rows")
