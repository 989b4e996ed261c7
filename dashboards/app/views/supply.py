"""Supply: the partners' latest stock reports, and how often suppliers deliver late."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import format, queries
from dashboards.app import common

TOP = 10


def render() -> None:
    st.title("Supply")
    st.subheader("Supplier stock")
    common.caption_from("fct_supplier_stock", "dim_suppliers")
    stock = common.query(queries.stock_summary).iloc[0]
    common.metric_row(
        [
            ("Suppliers reporting", format.count(stock.supplier_count)),
            ("Parts reported", format.count(stock.supplier_part_count)),
            ("Units in stock", format.count(stock.available_quantity)),
            ("Average lead time", format.days(stock.average_lead_time_days)),
        ],
        {"Parts reported": "Supplier and part pairs in the partners' latest reports."},
    )
    by_supplier = common.query(queries.stock_by_supplier)
    common.chart(
        alt.Chart(by_supplier)
        .mark_bar()
        .encode(
            x=alt.X("available_quantity:Q", title="Units in stock", axis=alt.Axis(format=",.0f")),
            y=alt.Y("supplier_name:N", title="Supplier", sort="-x", axis=alt.Axis(labelLimit=240)),
            color=alt.Color("partner_name:N", title="Partner feed"),
            tooltip=[
                alt.Tooltip("supplier_name:N", title="Supplier"),
                alt.Tooltip("available_quantity:Q", title="Units in stock", format=",.0f"),
            ],
        ),
        height=max(120, 40 * len(by_supplier)),
    )
    common.table(
        by_supplier,
        formats={
            "part_count": format.count,
            "available_quantity": format.count,
            "average_lead_time_days": format.days,
            "average_price_over_cost": format.money,
        },
        names={
            "supplier_name": "Supplier",
            "partner_name": "Partner feed",
            "part_count": "Parts",
            "available_quantity": "Units in stock",
            "average_lead_time_days": "Average lead time",
            "average_price_over_cost": "Average price over cost",
        },
    )

    st.subheader("Delivery delays")
    common.caption_from("fct_order_lines", "dim_suppliers")
    delays = common.query(queries.delivery_summary).iloc[0]
    common.metric_row(
        [
            ("Shipped lines", format.count(delays.shipped_line_count)),
            ("Late lines", format.count(delays.late_line_count)),
            ("Late share", format.percent(delays.late_share)),
            ("Average delay when late", format.days(delays.average_days_late)),
        ],
        {"Late lines": "Shipped lines the customer received after the supplier's commit date."},
    )
    by_mode = common.query(queries.lateness_by_ship_mode)
    common.chart(
        alt.Chart(by_mode)
        .mark_bar()
        .encode(
            x=alt.X("ship_mode:N", title="Ship mode", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("late_share:Q", title="Late lines (%)", axis=alt.Axis(format=".0%")),
            tooltip=[
                alt.Tooltip("ship_mode:N", title="Ship mode"),
                alt.Tooltip("shipped_line_count:Q", title="Shipped lines", format=",.0f"),
                alt.Tooltip("late_share:Q", title="Late", format=".1%"),
            ],
        )
    )
    st.markdown(f"**The {TOP} suppliers most often late**")
    common.table(
        common.query(queries.late_suppliers, TOP),
        formats={
            "shipped_line_count": format.count,
            "late_line_count": format.count,
            "late_share": format.percent,
            "average_days_late": format.days,
        },
        names={
            "supplier_name": "Supplier",
            "nation_name": "Nation",
            "shipped_line_count": "Shipped lines",
            "late_line_count": "Late lines",
            "late_share": "Late share",
            "average_days_late": "Average delay when late",
        },
    )
