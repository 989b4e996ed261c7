"""Customers: who buys the most."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import format, queries
from dashboards.app import common

TOP = 10


def render() -> None:
    st.title("Customers")
    common.caption_from("dim_customers")
    summary = common.query(queries.customer_summary).iloc[0]
    common.metric_row(
        [
            ("Customers", format.count(summary.customer_count)),
            ("Customers who ordered", format.count(summary.ordering_customer_count)),
            ("Average lifetime value", format.money(summary.average_lifetime_value)),
        ],
        {"Average lifetime value": "Net revenue per customer, over the customers who ordered."},
    )

    st.subheader(f"Top {TOP} customers by lifetime value")
    top = common.query(queries.top_customers, TOP)
    common.chart(
        alt.Chart(top)
        .mark_bar()
        .encode(
            x=alt.X("lifetime_value:Q", title="Lifetime value ($, net revenue)", axis=alt.Axis(format="$,.0f")),
            y=alt.Y("customer_name:N", title="Customer", sort="-x", axis=alt.Axis(labelLimit=240)),
            color=alt.Color("market_segment:N", title="Market segment"),
            tooltip=[
                alt.Tooltip("customer_name:N", title="Customer"),
                alt.Tooltip("lifetime_value:Q", title="Lifetime value", format="$,.2f"),
            ],
        )
    )
    common.table(
        top,
        formats={"order_count": format.count, "lifetime_value": format.money},
        names={
            "customer_name": "Customer",
            "nation_name": "Nation",
            "market_segment": "Market segment",
            "loyalty_tier": "Loyalty tier",
            "order_count": "Orders",
            "lifetime_value": "Lifetime value",
        },
    )
