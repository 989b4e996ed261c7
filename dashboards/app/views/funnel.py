"""Funnel: how far web and app visits get, from a product view to an order."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import format, queries
from dashboards.app import common

# (step, column of funnel_totals), top of the funnel first.
STEPS = (
    ("Visits", "session_count"),
    ("Viewed a product", "product_view_session_count"),
    ("Added to cart", "add_to_cart_session_count"),
    ("Started checkout", "checkout_session_count"),
    ("Placed an order", "order_session_count"),
)


def render() -> None:
    st.title("Funnel")
    common.caption_from("fct_daily_funnel")
    totals = common.query(queries.funnel_totals).iloc[0]
    visits = totals.session_count
    conversion = totals.order_session_count / visits if visits else None
    shown = [(label, format.count(totals[column])) for label, column in STEPS]
    common.metric_row([*shown, ("Conversion rate", format.percent(conversion))])

    steps = pd.DataFrame(
        {
            "step": [label for label, _ in STEPS],
            "order": range(len(STEPS)),
            "sessions": [float(totals[column]) for _, column in STEPS],
        }
    )
    steps["share_of_visits"] = steps.sessions / visits if visits else None
    steps["share_of_previous"] = steps.sessions / steps.sessions.shift(1)

    st.subheader("Visits reaching each step")
    common.chart(
        alt.Chart(steps)
        .mark_bar()
        .encode(
            x=alt.X("step:N", title="Funnel step", sort=alt.SortField("order"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sessions:Q", title="Visits", axis=alt.Axis(format=",.0f")),
            tooltip=[
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("sessions:Q", title="Visits", format=",.0f"),
                alt.Tooltip("share_of_visits:Q", title="Share of visits", format=".1%"),
            ],
        )
    )
    common.table(
        steps,
        formats={"sessions": format.count, "share_of_visits": format.percent, "share_of_previous": format.percent},
        names={
            "step": "Step",
            "sessions": "Visits",
            "share_of_visits": "Share of visits",
            "share_of_previous": "Share of the previous step",
        },
    )

    st.subheader("Weekly conversion rate")
    weekly = common.query(queries.weekly_conversion)
    common.chart(
        alt.Chart(weekly)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week"),
            y=alt.Y("conversion_rate:Q", title="Conversion rate (%)", axis=alt.Axis(format=".1%")),
            tooltip=[
                alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
                alt.Tooltip("session_count:Q", title="Visits", format=",.0f"),
                alt.Tooltip("conversion_rate:Q", title="Conversion rate", format=".1%"),
            ],
        )
    )
