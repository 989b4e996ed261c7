"""Payments: each order reconciled with the payment provider's charges and refunds."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import format, queries
from dashboards.app import common


def render() -> None:
    st.title("Payments")
    common.caption_from("fct_payment_reconciliation", "fct_daily_cash_revenue")
    by_status = common.query(queries.payments_by_status)
    by_status["status"] = by_status.payment_status.str.replace("_", " ")
    orders = by_status.set_index("payment_status").order_count
    common.metric_row(
        [
            ("Orders reconciled", format.count(by_status.order_count.sum())),
            ("Paid orders", format.count(orders.get("paid", 0))),
            ("Unpaid orders", format.count(orders.get("unpaid", 0))),
            ("Refunded orders", format.count(orders.get("refunded", 0))),
        ],
        {
            "Paid orders": "Charged exactly the order's total price.",
            "Unpaid orders": "No charge was attempted.",
            "Refunded orders": "Refunds cover all the charges.",
        },
    )
    common.metric_row(
        [
            ("Amount owed", format.money(by_status.owed_amount.sum())),
            ("Amount charged", format.money(by_status.charged_amount.sum())),
            ("Amount refunded", format.money(by_status.refunded_amount.sum())),
            ("Net amount paid", format.money(by_status.net_paid_amount.sum())),
        ]
    )

    st.subheader("Orders by payment status")
    common.chart(
        alt.Chart(by_status)
        .mark_bar()
        .encode(
            x=alt.X("status:N", title="Payment status", sort=list(by_status.status), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("order_count:Q", title="Orders", axis=alt.Axis(format=",.0f")),
            tooltip=[
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("order_count:Q", title="Orders", format=",.0f"),
                alt.Tooltip("owed_amount:Q", title="Owed", format="$,.2f"),
            ],
        )
    )
    common.table(
        by_status,
        formats={
            "order_count": format.count,
            "owed_amount": format.money,
            "charged_amount": format.money,
            "refunded_amount": format.money,
            "net_paid_amount": format.money,
        },
        names={
            "status": "Status",
            "order_count": "Orders",
            "owed_amount": "Owed",
            "charged_amount": "Charged",
            "refunded_amount": "Refunded",
            "net_paid_amount": "Net paid",
        },
    )

    st.subheader("Monthly cash against bookings")
    monthly = common.query(queries.monthly_cash)
    names = {"charged_amount": "Charged", "refunded_amount": "Refunded", "booked_amount": "Booked (orders' total)"}
    long = monthly.melt(id_vars="month", value_vars=list(names), var_name="measure", value_name="amount")
    long["measure"] = long.measure.map(names)
    common.chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title="Month"),
            xOffset=alt.XOffset("measure:N", sort=list(names.values())),
            y=alt.Y("amount:Q", title="Amount ($)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("measure:N", title="Measure", sort=list(names.values())),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%B %Y"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("amount:Q", title="Amount", format="$,.2f"),
            ],
        )
    )
