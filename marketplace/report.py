"""Where the demo's results are and a few headline numbers from the marts (`marketplace report`)."""

from __future__ import annotations

import duckdb

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.settings import Settings
from simulator.context import SimContext

HEADLINES = (
    ("orders", "select count(*) from fct_orders", "{:,}"),
    ("order lines", "select count(*) from fct_order_lines", "{:,}"),
    ("net revenue", "select sum(net_revenue) from fct_daily_revenue", "{:,.2f}"),
    ("customers with orders", "select count(*) from dim_customers where order_count > 0", "{:,}"),
    (
        "top region by net revenue",
        "select region_name || ' (' || round(100 * sum(net_revenue) / sum(sum(net_revenue)) over (), 1) || '%)' "
        "from fct_daily_revenue group by region_name order by sum(net_revenue) desc limit 1",
        "{}",
    ),
    ("last order date", "select max(order_date) from fct_orders", "{}"),
    ("web sessions", "select count(*) from fct_sessions", "{:,}"),
    ("orders fully paid", "select count(*) from fct_payment_reconciliation where payment_status = 'paid'", "{:,}"),
)


def headline_numbers(settings: Settings) -> list[tuple[str, str]]:
    con = duck.connect(str(settings.warehouse_path), settings=settings, config={"access_mode": "READ_ONLY"})
    schemas = [r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()]
    con.execute(f"set search_path = '{','.join(schemas)}'")
    numbers = []
    try:
        for label, query, fmt in HEADLINES:
            try:
                value = con.execute(query).fetchone()[0]
            except duckdb.CatalogException:
                continue  # that source is not part of this build
            numbers.append((label, fmt.format(value) if value is not None else "n/a"))
    finally:
        con.close()
    return numbers


def simulated_date(settings: Settings) -> str | None:
    """The simulator's clock, or None when the sources are real ones."""
    try:
        return str(SimContext(settings).clock())
    except PlatformError:
        return None


def print_report(settings: Settings) -> None:
    if not settings.warehouse_path.exists():
        raise PlatformError(f"no warehouse at {settings.warehouse_path}: run `make demo` first")
    clock = simulated_date(settings)
    numbers = headline_numbers(settings)
    print()
    if clock:
        print(f"Simulated date: {clock}   (scale factor {settings.sf:g})")
    print(f"  source systems  {settings.sources_dir}")
    print(f"  lake            {settings.lake_url}  (landing/ raw/ processed/ quarantine/)")
    print(f"  warehouse       {settings.warehouse_path}  (DuckDB file: open it with any DuckDB client)")
    print(f"  docs & lineage  make docs       → http://127.0.0.1:{settings.docs_port}")
    print(f"  dashboard       make dashboard  → http://127.0.0.1:{settings.dashboard_port}")
    print()
    width = max(len(label) for label, _ in numbers) if numbers else 0
    for label, value in numbers:
        print(f"  {label:<{width}}  {value}")
    print()
    print("Next: make advance DAYS=1 && make run   # process only the new day")
