"""Clickstream: every delivered line accounted for, kept, quarantined or dropped as a duplicate."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboards import format, queries
from dashboards.app import common

OUTCOMES = {"processed_count": "Kept as events", "quarantined_count": "Quarantined", "duplicate_count": "Duplicates"}


def render() -> None:
    st.title("Clickstream")
    common.caption_from("fct_clickstream_deliveries")
    totals = common.query(queries.delivery_totals).iloc[0]
    delivered = totals.delivered_count
    common.metric_row(
        [
            ("Landing files", format.count(totals.landing_file_count)),
            ("Lines delivered", format.count(delivered)),
            ("Events kept", format.count(totals.processed_count)),
            ("Events stored", format.count(totals.stored_event_count)),
        ],
        {"Events stored": "Events in the processed zone that landed on those days."},
    )
    common.metric_row(
        [
            ("Lines quarantined", format.count(totals.quarantined_count)),
            ("Duplicates removed", format.count(totals.duplicate_count)),
            ("Quarantine rate", format.percent(totals.quarantined_count / delivered if delivered else None, 2)),
            ("Duplicate rate", format.percent(totals.duplicate_count / delivered if delivered else None, 2)),
        ]
    )
    accounted = totals.processed_count + totals.quarantined_count + totals.duplicate_count
    if accounted == delivered and totals.stored_event_count == totals.processed_count:
        st.success(f"All {format.count(delivered)} delivered lines are accounted for, and every kept event is stored.")
    else:
        st.error(
            f"{format.count(delivered)} lines delivered but {format.count(accounted)} accounted for, and "
            f"{format.count(totals.stored_event_count)} events stored for {format.count(totals.processed_count)} kept."
        )

    st.subheader("Weekly deliveries by outcome")
    weekly = common.query(queries.weekly_deliveries)
    long = weekly.melt(id_vars="week", value_vars=list(OUTCOMES), var_name="outcome", value_name="lines")
    long["outcome"] = long.outcome.map(OUTCOMES)
    common.chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("week:T", title="Week landed"),
            y=alt.Y("lines:Q", title="Lines delivered", axis=alt.Axis(format=",.0f")),
            color=alt.Color("outcome:N", title="Outcome", sort=list(OUTCOMES.values())),
            tooltip=[
                alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
                alt.Tooltip("outcome:N", title="Outcome"),
                alt.Tooltip("lines:Q", title="Lines", format=",.0f"),
            ],
        )
    )

    st.subheader("By month landed")
    monthly = common.query(queries.monthly_deliveries)
    monthly["month"] = monthly.month.map(lambda day: day.strftime("%B %Y"))
    counts = ("landing_file_count", "delivered_count", "processed_count", "quarantined_count", "duplicate_count")
    common.table(
        monthly,
        formats={column: format.count for column in (*counts, "stored_event_count")},
        names={
            "month": "Month",
            "landing_file_count": "Landing files",
            "delivered_count": "Lines delivered",
            "processed_count": "Events kept",
            "quarantined_count": "Quarantined",
            "duplicate_count": "Duplicates",
            "stored_event_count": "Events stored",
        },
    )
