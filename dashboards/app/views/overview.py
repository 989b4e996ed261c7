"""Overview: the headline numbers, from the dbt semantic layer's metrics."""

from __future__ import annotations

import streamlit as st

from dashboards import format
from dashboards.app import common

# (metric, label, format) in the order dashboards.metrics.HEADLINE_METRICS lists them.
HEADLINE = (
    ("revenue", "Revenue", format.money),
    ("net_revenue", "Net revenue", format.money),
    ("orders", "Orders", format.count),
    ("average_order_value", "Average order value", format.money),
    ("conversion_rate", "Conversion rate", format.percent),
    ("refund_rate", "Refund rate", format.percent),
    ("cash_collected", "Cash collected", format.money),
)
HELP = {
    "Revenue": "Gross revenue of every order line: after discount, with tax.",
    "Net revenue": "Revenue after discount, before tax.",
    "Orders": "Orders placed.",
    "Average order value": "Revenue per order.",
    "Conversion rate": "Web and app visits that placed an order, per visit.",
    "Refund rate": "Refunded amount per amount charged.",
    "Cash collected": "Charges that succeeded, less refunds.",
}


def render() -> None:
    st.title("Overview")
    st.write(
        "The business's headline numbers over all time. They are the metrics of the dbt semantic layer "
        "(`models/marts/_semantic_models.yml`), computed by the SQL MetricFlow plans for them."
    )
    values = common.headline()
    if values is None:
        return
    shown = {label: fmt(values[name]) for name, label, fmt in HEADLINE}
    # the dollar totals run long: three to their row, the rest four to theirs
    money = ("Revenue", "Net revenue", "Cash collected")
    common.metric_row([(label, shown[label]) for label in money], HELP, per_row=3)
    common.metric_row([(label, value) for label, value in shown.items() if label not in money], HELP)
    st.caption(f"Metric definitions read from {common.semantic_manifest_path().name} in dbt's target folder.")
