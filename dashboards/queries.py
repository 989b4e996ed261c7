"""The dashboard's questions, as plain SQL over the marts (models/marts/**).

Each function takes a DB-API-style DuckDB connection (read-only is enough) and returns a
pandas DataFrame with the columns the page shows. Only mart names appear here, never
staging or raw tables, so the same SQL reads any target that builds the marts. The
headline numbers are not here: they come from the semantic layer (dashboards.metrics).

Sums are cast to double: the marts keep exact decimals, a chart needs floats, and the
pages round for display anyway.
"""

from __future__ import annotations

import pandas as pd

# The payment statuses in the order fct_payment_reconciliation assigns them (its YAML).
PAYMENT_STATUSES = ("paid", "overpaid", "underpaid", "partially_refunded", "refunded", "failed", "unpaid")


def _frame(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


# -- revenue ---------------------------------------------------------------------------


def revenue_by_region(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            region_name,
            sum(order_count) as order_count,
            sum(gross_revenue)::double as revenue,
            sum(net_revenue)::double as net_revenue
        from fct_daily_revenue
        group by region_name
        order by region_name
        """,
    )


def monthly_revenue_by_region(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            date_trunc('month', order_date)::date as month,
            region_name,
            sum(gross_revenue)::double as revenue
        from fct_daily_revenue
        group by month, region_name
        order by month, region_name
        """,
    )


def revenue_by_nation(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            nation_name,
            region_name,
            sum(order_count) as order_count,
            sum(gross_revenue)::double as revenue,
            sum(net_revenue)::double as net_revenue,
            (sum(gross_revenue) / sum(sum(gross_revenue)) over ())::double as revenue_share
        from fct_daily_revenue
        group by nation_name, region_name
        order by revenue desc, nation_name
        """,
    )


def yearly_revenue_by_nation(con, region_name: str) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            year(order_date) as order_year,
            nation_name,
            sum(gross_revenue)::double as revenue
        from fct_daily_revenue
        where region_name = ?
        group by order_year, nation_name
        order by order_year, nation_name
        """,
        [region_name],
    )


# -- customers -------------------------------------------------------------------------


def customer_summary(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            count(*) as customer_count,
            count(*) filter (where order_count > 0) as ordering_customer_count,
            (avg(lifetime_value) filter (where order_count > 0))::double as average_lifetime_value
        from dim_customers
        """,
    )


def top_customers(con, limit: int = 10) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            customer_name,
            nation_name,
            market_segment,
            loyalty_tier,
            order_count,
            lifetime_value::double as lifetime_value
        from dim_customers
        order by lifetime_value desc, customer_id
        limit ?
        """,
        [limit],
    )


# -- web funnel ------------------------------------------------------------------------


def funnel_totals(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            sum(session_count) as session_count,
            sum(product_view_session_count) as product_view_session_count,
            sum(add_to_cart_session_count) as add_to_cart_session_count,
            sum(checkout_session_count) as checkout_session_count,
            sum(order_session_count) as order_session_count,
            sum(order_count) as order_count,
            sum(order_total_price)::double as order_total_price
        from fct_daily_funnel
        """,
    )


def weekly_conversion(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            date_trunc('week', session_date)::date as week,
            sum(session_count) as session_count,
            (sum(order_session_count) / sum(session_count))::double as conversion_rate
        from fct_daily_funnel
        group by week
        order by week
        """,
    )


# -- payments --------------------------------------------------------------------------


def payments_by_status(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            payment_status,
            count(*) as order_count,
            sum(total_price)::double as owed_amount,
            sum(charged_amount)::double as charged_amount,
            sum(refunded_amount)::double as refunded_amount,
            sum(net_paid_amount)::double as net_paid_amount
        from fct_payment_reconciliation
        group by payment_status
        order by list_position(?, payment_status), payment_status
        """,
        [list(PAYMENT_STATUSES)],
    )


def monthly_cash(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            date_trunc('month', revenue_date)::date as month,
            sum(charged_amount)::double as charged_amount,
            sum(refunded_amount)::double as refunded_amount,
            sum(booked_amount)::double as booked_amount
        from fct_daily_cash_revenue
        group by month
        order by month
        """,
    )


# -- supply ----------------------------------------------------------------------------


def stock_summary(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            count(distinct partner_name) as partner_count,
            count(distinct supplier_id) as supplier_count,
            count(*) as supplier_part_count,
            sum(available_quantity) as available_quantity,
            avg(lead_time_days)::double as average_lead_time_days
        from fct_supplier_stock
        """,
    )


def stock_by_supplier(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            suppliers.supplier_name,
            stock.partner_name,
            count(*) as part_count,
            sum(stock.available_quantity) as available_quantity,
            avg(stock.lead_time_days)::double as average_lead_time_days,
            avg(stock.price_over_supply_cost)::double as average_price_over_cost
        from fct_supplier_stock as stock
        inner join dim_suppliers as suppliers on stock.supplier_id = suppliers.supplier_id
        group by suppliers.supplier_name, stock.partner_name
        order by available_quantity desc, suppliers.supplier_name
        """,
    )


# A shipped line (status F) is late when the customer received it after the day the
# supplier committed to.
_SHIPPED_LINES = """
    select
        supplier_id,
        ship_mode,
        receipt_date > commit_date as is_late,
        receipt_date - commit_date as days_late
    from fct_order_lines
    where line_status = 'F'
"""


def delivery_summary(con) -> pd.DataFrame:
    return _frame(
        con,
        f"""
        with shipped as ({_SHIPPED_LINES})
        select
            count(*) as shipped_line_count,
            count(*) filter (where is_late) as late_line_count,
            avg(case when is_late then 1.0 else 0.0 end)::double as late_share,
            (avg(days_late) filter (where is_late))::double as average_days_late
        from shipped
        """,
    )


def lateness_by_ship_mode(con) -> pd.DataFrame:
    return _frame(
        con,
        f"""
        with shipped as ({_SHIPPED_LINES})
        select
            ship_mode,
            count(*) as shipped_line_count,
            avg(case when is_late then 1.0 else 0.0 end)::double as late_share
        from shipped
        group by ship_mode
        order by ship_mode
        """,
    )


def late_suppliers(con, limit: int = 10) -> pd.DataFrame:
    return _frame(
        con,
        f"""
        with shipped as ({_SHIPPED_LINES}),

        per_supplier as (
            select
                supplier_id,
                count(*) as shipped_line_count,
                count(*) filter (where is_late) as late_line_count,
                avg(days_late) filter (where is_late) as average_days_late
            from shipped
            group by supplier_id
        )

        select
            suppliers.supplier_name,
            suppliers.nation_name,
            per_supplier.shipped_line_count,
            per_supplier.late_line_count,
            per_supplier.late_line_count / per_supplier.shipped_line_count as late_share,
            per_supplier.average_days_late::double as average_days_late
        from per_supplier
        inner join dim_suppliers as suppliers on per_supplier.supplier_id = suppliers.supplier_id
        order by late_share desc, suppliers.supplier_id
        limit ?
        """,
        [limit],
    )


# -- clickstream -----------------------------------------------------------------------


def delivery_totals(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            count(*) as landed_day_count,
            sum(landing_file_count) as landing_file_count,
            sum(delivered_count) as delivered_count,
            sum(processed_count) as processed_count,
            sum(quarantined_count) as quarantined_count,
            sum(duplicate_count) as duplicate_count,
            sum(stored_event_count) as stored_event_count
        from fct_clickstream_deliveries
        """,
    )


def weekly_deliveries(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            date_trunc('week', landed_date)::date as week,
            sum(processed_count) as processed_count,
            sum(quarantined_count) as quarantined_count,
            sum(duplicate_count) as duplicate_count
        from fct_clickstream_deliveries
        group by week
        order by week
        """,
    )


def monthly_deliveries(con) -> pd.DataFrame:
    return _frame(
        con,
        """
        select
            date_trunc('month', landed_date)::date as month,
            sum(landing_file_count) as landing_file_count,
            sum(delivered_count) as delivered_count,
            sum(processed_count) as processed_count,
            sum(quarantined_count) as quarantined_count,
            sum(duplicate_count) as duplicate_count,
            sum(stored_event_count) as stored_event_count
        from fct_clickstream_deliveries
        group by month
        order by month
        """,
    )
