"""The local dashboard over the marts: `marketplace dashboard serve` (make dashboard) runs it.

Each page reads the DuckDB warehouse read-only through dashboards.queries; the Overview's
headline numbers come from the dbt semantic layer (dashboards.metrics).
"""

from __future__ import annotations

import streamlit as st

from dashboards.app.views import clickstream, customers, funnel, overview, payments, revenue, supply

st.set_page_config(page_title="Marketplace dashboard", layout="wide")
# Dollar amounts run to 17 characters; Streamlit's default metric size cuts them off at four a row.
st.html("<style>[data-testid='stMetricValue'] { font-size: 1.9rem; }</style>")

PAGES = [
    st.Page(overview.render, title="Overview", url_path="overview", default=True),
    st.Page(revenue.render, title="Revenue", url_path="revenue"),
    st.Page(customers.render, title="Customers", url_path="customers"),
    st.Page(funnel.render, title="Funnel", url_path="funnel"),
    st.Page(payments.render, title="Payments", url_path="payments"),
    st.Page(supply.render, title="Supply", url_path="supply"),
    st.Page(clickstream.render, title="Clickstream", url_path="clickstream"),
]

st.navigation(PAGES).run()
