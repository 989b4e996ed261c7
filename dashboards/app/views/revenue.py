"""Revenue: the trend by region, and each nation's share."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import format, queries
from dashboards.app import common


def render() -> None:
    st.title("Revenue")
    common.caption_from("fct_daily_revenue")
    regions = common.query(queries.revenue_by_region)
    common.metric_row(
        [
            ("Revenue", format.money(regions.revenue.sum())),
            ("Net revenue", format.money(regions.net_revenue.sum())),
            ("Orders", format.count(regions.order_count.sum())),
        ],
        {"Revenue": "After discount, with tax.", "Net revenue": "After discount, before tax."},
        per_row=3,
    )

    st.subheader("Revenue by region")
    regions["revenue_share"] = regions.revenue / regions.revenue.sum()
    common.table(
        regions,
        formats={
            "order_count": format.count,
            "revenue": format.money,
            "net_revenue": format.money,
            "revenue_share": format.percent,
        },
        names={
            "region_name": "Region",
            "order_count": "Orders",
            "revenue": "Revenue",
            "net_revenue": "Net revenue",
            "revenue_share": "Share of revenue",
        },
    )

    st.subheader("Monthly revenue by region")
    monthly = common.query(queries.monthly_revenue_by_region)
    st.caption(f"The orders run to {monthly.month.max():%B %Y}; that month may be partial.")
    common.chart(
        alt.Chart(monthly)
        .mark_line()
        .encode(
            x=alt.X("month:T", title="Month"),
            y=alt.Y("revenue:Q", title="Revenue ($)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("region_name:N", title="Region"),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%B %Y"),
                alt.Tooltip("region_name:N", title="Region"),
                alt.Tooltip("revenue:Q", title="Revenue", format="$,.2f"),
            ],
        )
    )

    st.subheader("Revenue by nation")
    nations = common.query(queries.revenue_by_nation)
    common.chart(
        alt.Chart(nations)
        .mark_bar()
        .encode(
            x=alt.X("revenue:Q", title="Revenue ($)", axis=alt.Axis(format="$,.0f")),
            y=alt.Y("nation_name:N", title="Nation", sort="-x"),
            color=alt.Color("region_name:N", title="Region"),
            tooltip=[
                alt.Tooltip("nation_name:N", title="Nation"),
                alt.Tooltip("revenue:Q", title="Revenue", format="$,.2f"),
            ],
        ),
        height=520,
    )
    common.table(
        nations,
        formats={
            "order_count": format.count,
            "revenue": format.money,
            "net_revenue": format.money,
            "revenue_share": format.percent,
        },
        names={
            "nation_name": "Nation",
            "region_name": "Region",
            "order_count": "Orders",
            "revenue": "Revenue",
            "net_revenue": "Net revenue",
            "revenue_share": "Share of revenue",
        },
    )

    st.subheader("Yearly revenue by nation")
    region = st.selectbox("Region", list(regions.region_name))
    yearly = common.query(queries.yearly_revenue_by_nation, region)
    common.chart(
        alt.Chart(yearly)
        .mark_line(point=True)
        .encode(
            x=alt.X("order_year:O", title="Year"),
            y=alt.Y("revenue:Q", title="Revenue ($)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("nation_name:N", title="Nation"),
            tooltip=[
                alt.Tooltip("order_year:O", title="Year"),
                alt.Tooltip("nation_name:N", title="Nation"),
                alt.Tooltip("revenue:Q", title="Revenue", format="$,.2f"),
            ],
        )
    )
