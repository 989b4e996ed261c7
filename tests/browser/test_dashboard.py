"""The local dashboard in a real Chromium: every page, every number on it, every chart's axes.

`marketplace dashboard serve` runs over the session's SF 0.01 build. Each test opens one
page, reads the numbers the page shows (metric labels and values, table cells) and
compares them with the test's own SQL over the marts, allowing only for the rounding of
the display ($ to the cent, 12.3% to a tenth of a point). The SQL here is written apart
from the app's (dashboards/queries.py), often over other marts that must agree: the
Overview's metrics (the semantic layer over fct_order_lines, fct_sessions, ...) against
fct_orders and fct_daily_funnel, the revenue by region against the order lines and the
customers' region, the funnel against the sessions. Each chart must title both axes.
Screenshots are saved as dashboard-<page>.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.browser.conftest import serve
from tests.conftest import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# page → the (x, y) axis titles of its charts, top to bottom
CHARTS = {
    "overview": [],
    "revenue": [("Month", "Revenue ($)"), ("Revenue ($)", "Nation"), ("Year", "Revenue ($)")],
    "customers": [("Lifetime value ($, net revenue)", "Customer")],
    "funnel": [("Funnel step", "Visits"), ("Week", "Conversion rate (%)")],
    "payments": [("Payment status", "Orders"), ("Month", "Amount ($)")],
    "supply": [("Units in stock", "Supplier"), ("Ship mode", "Late lines (%)")],
    "clickstream": [("Week landed", "Lines delivered")],
}
# page → how many metrics and tables it shows
METRICS = {"overview": 7, "revenue": 3, "customers": 3, "funnel": 6, "payments": 8, "supply": 8, "clickstream": 8}
TABLES = {"overview": 0, "revenue": 2, "customers": 1, "funnel": 1, "payments": 1, "supply": 2, "clickstream": 1}
TITLES = {page: page.capitalize() for page in CHARTS}
PATHS = {page: "" if page == "overview" else page for page in CHARTS}  # the default page is the root

# -- reading numbers the way a person does -----------------------------------------------

_MONEY = re.compile(r"^(-?)\$(\d{1,3}(?:,\d{3})*\.\d{2})$")
_COUNT = re.compile(r"^\d{1,3}(?:,\d{3})*$")
_PERCENT = re.compile(r"^(\d{1,3}(?:,\d{3})*\.(\d+))%$")
_DAYS = re.compile(r"^(\d+\.\d) days$")


def money(text: str) -> float:
    match = _MONEY.match(text)
    assert match, f"{text!r} is not written as dollars and cents ($1,234.56)"
    return float(match[1] + match[2].replace(",", ""))


def count(text: str) -> int:
    assert _COUNT.match(text), f"{text!r} is not a whole number with thousands separators"
    return int(text.replace(",", ""))


def percent(text: str) -> tuple[float, int]:
    match = _PERCENT.match(text)
    assert match, f"{text!r} is not a percentage (12.3%)"
    return float(match[1].replace(",", "")) / 100, len(match[2])


def days(text: str) -> float:
    match = _DAYS.match(text)
    assert match, f"{text!r} is not a number of days (15.4 days)"
    return float(match[1])


def same_money(text: str, expected: float) -> None:
    assert money(text) == pytest.approx(expected, abs=0.005 + 1e-9), text


def same_count(text: str, expected: float) -> None:
    assert count(text) == round(expected), text


def same_percent(text: str, expected: float) -> None:
    shown, decimals = percent(text)
    assert shown == pytest.approx(expected, abs=0.5 * 10 ** -(decimals + 2) + 1e-12), text


def same_days(text: str, expected: float) -> None:
    assert days(text) == pytest.approx(expected, abs=0.05 + 1e-9), text


# -- the server and the page ----------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard(built_platform) -> str:
    def command(port: int) -> list[str]:
        return [str(BIN / "marketplace"), "dashboard", "serve", "--port", str(port)]

    yield from serve(command, dict(built_platform), "/_stcore/health")


@pytest.fixture
def sql(built_platform):
    """``sql(query)`` → rows, on a read-only connection opened for the one query."""
    warehouse = Path(built_platform["DATA_DIR"]) / "warehouse.duckdb"

    def query(text: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(text, params or []).fetchall()

    return query


def one(sql, text: str) -> tuple:
    (row,) = sql(text)
    return row


class Shown:
    """What one dashboard page shows, read from the DOM once Streamlit has finished drawing it."""

    def __init__(self, page, url: str, name: str):
        page.goto(f"{url}/{PATHS[name]}")
        page.get_by_role("heading", name=TITLES[name], level=1).wait_for()
        # Streamlit draws while the page's script runs (the app's root says when it has
        # finished), and some elements later still: metrics, charts and tables load their
        # code on first use, and Vega draws the axes after that.
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        page.wait_for_function(
            """([metrics, charts, tables]) =>
                document.querySelectorAll('[data-testid="stMetricValue"]').length >= metrics
                && document.querySelectorAll('[data-testid="stVegaLiteChart"] [aria-roledescription="axis"]').length
                    >= 2 * charts
                && document.querySelectorAll('[data-testid="stTable"] table').length >= tables""",
            arg=[METRICS[name], len(CHARTS[name]), TABLES[name]],
        )
        self.page = page
        self.metrics = dict(
            page.evaluate(
                """() => [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
                    m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
                    m.querySelector('[data-testid="stMetricValue"]').innerText.trim()])"""
            )
        )
        self.tables = [
            [dict(zip(table[0], row, strict=True)) for row in table[1:]]
            for table in page.evaluate(
                """() => [...document.querySelectorAll('[data-testid="stTable"] table')].map(t =>
                    [...t.querySelectorAll('tr')].map(r =>
                        [...r.querySelectorAll('th, td')].map(c => c.innerText.trim())))"""
            )
        ]
        self.axes = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(c =>
                [...c.querySelectorAll('[aria-roledescription="axis"]')].map(a => a.getAttribute('aria-label')))"""
        )
        # errors on the page, and Streamlit's "Page not found" dialog for a wrong address
        self.errors = page.evaluate(
            """() => [...document.querySelectorAll(
                '[data-testid="stException"], [data-testid="stAlertContentError"], [role="dialog"]')]
                .map(e => e.innerText)"""
        )

    def axis_titles(self) -> list[tuple[str, str]]:
        titles = []
        for labels in self.axes:
            found = {}
            for label in labels:
                match = re.match(r"^([XY])-axis titled '(.+?)' for ", label or "")
                assert match, f"an axis without a title: {label!r}"
                found[match[1]] = match[2]
            assert set(found) == {"X", "Y"}, f"a chart lacks an axis: {labels}"
            titles.append((found["X"], found["Y"]))
        return titles

    def save(self, screenshot, name: str) -> None:
        # Streamlit scrolls inside its own container: grow the window to the content, then shoot.
        height = self.page.evaluate(
            """() => Math.max(...[...document.querySelectorAll(
                '[data-testid="stMain"], [data-testid="stAppViewContainer"]')].map(e => e.scrollHeight))"""
        )
        self.page.set_viewport_size({"width": 1400, "height": max(1000, height)})
        self.page.wait_for_timeout(500)
        screenshot(self.page, f"dashboard-{name}")


@pytest.fixture
def show(dashboard, page, screenshot):
    def _show(name: str) -> Shown:
        shown = Shown(page, dashboard, name)
        assert shown.errors == [], f"the {name} page shows errors"
        assert shown.axis_titles() == CHARTS[name]
        assert (len(shown.metrics), len(shown.tables)) == (METRICS[name], TABLES[name])
        shown.save(screenshot, name)
        return shown

    return _show


# -- the pages --------------------------------------------------------------------------------


def test_overview_shows_the_semantic_layers_headline_metrics(show, sql):
    shown = show("overview")
    revenue, net_revenue = one(sql, "select sum(gross_revenue), sum(net_revenue) from fct_orders")
    (orders,) = one(sql, "select count(*) from fct_orders")
    (conversion,) = one(sql, "select sum(order_session_count) / sum(session_count) from fct_daily_funnel")
    charged, refunded = one(sql, "select sum(charged_amount), sum(refunded_amount) from fct_daily_cash_revenue")
    assert set(shown.metrics) == {
        "Revenue",
        "Net revenue",
        "Orders",
        "Average order value",
        "Conversion rate",
        "Refund rate",
        "Cash collected",
    }
    same_money(shown.metrics["Revenue"], float(revenue))
    same_money(shown.metrics["Net revenue"], float(net_revenue))
    same_count(shown.metrics["Orders"], orders)
    same_money(shown.metrics["Average order value"], float(revenue) / orders)
    same_percent(shown.metrics["Conversion rate"], float(conversion))
    same_percent(shown.metrics["Refund rate"], float(refunded) / float(charged))
    same_money(shown.metrics["Cash collected"], float(charged - refunded))


def test_revenue_by_region_and_nation(show, sql):
    shown = show("revenue")
    revenue, net_revenue, orders = one(
        sql, "select sum(gross_revenue), sum(net_revenue), count(distinct order_id) from fct_order_lines"
    )
    same_money(shown.metrics["Revenue"], float(revenue))
    same_money(shown.metrics["Net revenue"], float(net_revenue))
    same_count(shown.metrics["Orders"], orders)

    by_customer_place = """
        select {place}, count(distinct lines.order_id), sum(lines.gross_revenue), sum(lines.net_revenue)
        from fct_order_lines as lines
        inner join dim_customers as customers on lines.customer_id = customers.customer_id
        group by {place}
    """
    regions_table, nations_table = shown.tables
    regions = {row[0]: row[1:] for row in sql(by_customer_place.format(place="customers.region_name"))}
    assert [row["Region"] for row in regions_table] == sorted(regions)
    for row in regions_table:
        region_orders, region_revenue, region_net = regions[row["Region"]]
        same_count(row["Orders"], region_orders)
        same_money(row["Revenue"], float(region_revenue))
        same_money(row["Net revenue"], float(region_net))
        same_percent(row["Share of revenue"], float(region_revenue / revenue))

    nations = {row[0]: row[1:] for row in sql(by_customer_place.format(place="customers.nation_name"))}
    assert len(nations_table) == len(nations) == 25
    shown_revenue = [money(row["Revenue"]) for row in nations_table]
    assert shown_revenue == sorted(shown_revenue, reverse=True), "nations are listed by revenue"
    for row in nations_table:
        nation_orders, nation_revenue, nation_net = nations[row["Nation"]]
        same_count(row["Orders"], nation_orders)
        same_money(row["Revenue"], float(nation_revenue))
        same_money(row["Net revenue"], float(nation_net))
        same_percent(row["Share of revenue"], float(nation_revenue / revenue))


def test_customers_top_ten_by_lifetime_value(show, sql):
    shown = show("customers")
    customers, ordering, per_customer = one(
        sql,
        """
        select
            (select count(*) from dim_customers),
            count(distinct customer_id),
            sum(net_revenue) / count(distinct customer_id)
        from fct_orders
        """,
    )
    same_count(shown.metrics["Customers"], customers)
    same_count(shown.metrics["Customers who ordered"], ordering)
    same_money(shown.metrics["Average lifetime value"], float(per_customer))

    top = sql(
        """
        select customers.customer_name, customers.nation_name, count(*), sum(orders.net_revenue) as value
        from fct_orders as orders
        inner join dim_customers as customers on orders.customer_id = customers.customer_id
        group by customers.customer_id, customers.customer_name, customers.nation_name
        order by value desc, customers.customer_id
        limit 10
        """
    )
    (table,) = shown.tables
    assert [row["Customer"] for row in table] == [name for name, *_ in top]
    for row, (_name, nation, orders, value) in zip(table, top, strict=True):
        assert row["Nation"] == nation
        same_count(row["Orders"], orders)
        same_money(row["Lifetime value"], float(value))


def test_funnel_from_the_sessions(show, sql):
    shown = show("funnel")
    steps = one(
        sql,
        """
        select count(*), count(*) filter (where has_product_view), count(*) filter (where has_add_to_cart),
            count(*) filter (where has_checkout), count(*) filter (where has_order)
        from fct_sessions
        """,
    )
    labels = ["Visits", "Viewed a product", "Added to cart", "Started checkout", "Placed an order"]
    for label, expected in zip(labels, steps, strict=True):
        same_count(shown.metrics[label], expected)
    same_percent(shown.metrics["Conversion rate"], steps[-1] / steps[0])
    (table,) = shown.tables
    assert [row["Step"] for row in table] == labels
    for row, expected, previous in zip(table, steps, (None, *steps), strict=False):
        same_count(row["Visits"], expected)
        same_percent(row["Share of visits"], expected / steps[0])
        if previous:
            same_percent(row["Share of the previous step"], expected / previous)


def test_payments_reconciliation(show, sql):
    shown = show("payments")
    by_status = {
        status: rest
        for status, *rest in sql(
            """
            select payment_status, count(*), sum(total_price), sum(charged_amount), sum(refunded_amount),
                sum(charged_amount) - sum(refunded_amount)
            from fct_payment_reconciliation
            group by payment_status
            """
        )
    }
    total = [sum(values[i] for values in by_status.values()) for i in range(5)]
    same_count(shown.metrics["Orders reconciled"], total[0])
    for status in ("paid", "unpaid", "refunded"):
        same_count(shown.metrics[f"{status.capitalize()} orders"], by_status.get(status, [0])[0])
    for label, value in zip(
        ("Amount owed", "Amount charged", "Amount refunded", "Net amount paid"), total[1:], strict=True
    ):
        same_money(shown.metrics[label], float(value))
    (table,) = shown.tables
    assert {row["Status"] for row in table} == {status.replace("_", " ") for status in by_status}
    for row in table:
        orders, owed, charged, refunded, net = by_status[row["Status"].replace(" ", "_")]
        same_count(row["Orders"], orders)
        same_money(row["Owed"], float(owed))
        same_money(row["Charged"], float(charged))
        same_money(row["Refunded"], float(refunded))
        same_money(row["Net paid"], float(net))


def test_supply_stock_and_delays(show, sql):
    shown = show("supply")
    suppliers, pairs, units, lead_time = one(
        sql,
        "select count(distinct supplier_id), count(*), sum(available_quantity), avg(lead_time_days) "
        "from fct_supplier_stock",
    )
    same_count(shown.metrics["Suppliers reporting"], suppliers)
    same_count(shown.metrics["Parts reported"], pairs)
    same_count(shown.metrics["Units in stock"], units)
    same_days(shown.metrics["Average lead time"], lead_time)

    shipped, late, late_days = one(
        sql,
        """
        select count(*), sum(case when receipt_date > commit_date then 1 else 0 end),
            avg(case when receipt_date > commit_date then date_diff('day', commit_date, receipt_date) end)
        from fct_order_lines
        where line_status = 'F'
        """,
    )
    same_count(shown.metrics["Shipped lines"], shipped)
    same_count(shown.metrics["Late lines"], late)
    same_percent(shown.metrics["Late share"], late / shipped)
    same_days(shown.metrics["Average delay when late"], late_days)

    stock_table, late_table = shown.tables
    stock = {
        name: rest
        for name, *rest in sql(
            """
            select suppliers.supplier_name, count(*), sum(stock.available_quantity), avg(stock.lead_time_days)
            from fct_supplier_stock as stock
            inner join dim_suppliers as suppliers using (supplier_id)
            group by suppliers.supplier_name
            """
        )
    }
    assert {row["Supplier"] for row in stock_table} == set(stock)
    for row in stock_table:
        parts, supplier_units, supplier_lead = stock[row["Supplier"]]
        same_count(row["Parts"], parts)
        same_count(row["Units in stock"], supplier_units)
        same_days(row["Average lead time"], supplier_lead)

    latest = sql(
        """
        select suppliers.supplier_name, count(*) as shipped,
            sum(case when lines.receipt_date > lines.commit_date then 1 else 0 end) as late
        from fct_order_lines as lines
        inner join dim_suppliers as suppliers using (supplier_id)
        where lines.line_status = 'F'
        group by suppliers.supplier_id, suppliers.supplier_name
        order by late / shipped desc, suppliers.supplier_id
        limit 10
        """
    )
    assert [row["Supplier"] for row in late_table] == [name for name, *_ in latest]
    for row, (_name, supplier_shipped, supplier_late) in zip(late_table, latest, strict=True):
        same_count(row["Shipped lines"], supplier_shipped)
        same_count(row["Late lines"], supplier_late)
        same_percent(row["Late share"], supplier_late / supplier_shipped)


def test_clickstream_delivery_accounting(show, sql):
    shown = show("clickstream")
    files, delivered, kept, quarantined, duplicates, stored = one(
        sql,
        """
        select sum(landing_file_count), sum(delivered_count), sum(processed_count), sum(quarantined_count),
            sum(duplicate_count), sum(stored_event_count)
        from fct_clickstream_deliveries
        """,
    )
    same_count(shown.metrics["Landing files"], files)
    same_count(shown.metrics["Lines delivered"], delivered)
    same_count(shown.metrics["Events kept"], kept)
    same_count(shown.metrics["Events stored"], stored)
    same_count(shown.metrics["Lines quarantined"], quarantined)
    same_count(shown.metrics["Duplicates removed"], duplicates)
    same_percent(shown.metrics["Quarantine rate"], quarantined / delivered)
    same_percent(shown.metrics["Duplicate rate"], duplicates / delivered)

    months = {
        month: rest
        for month, *rest in sql(
            """
            select strftime(landed_date, '%B %Y'), sum(landing_file_count), sum(delivered_count),
                sum(processed_count), sum(quarantined_count), sum(duplicate_count)
            from fct_clickstream_deliveries
            group by 1
            """
        )
    }
    (table,) = shown.tables
    assert {row["Month"] for row in table} == set(months)
    for row in table:
        for column, expected in zip(
            ("Landing files", "Lines delivered", "Events kept", "Quarantined", "Duplicates"),
            months[row["Month"]],
            strict=True,
        ):
            same_count(row[column], expected)
