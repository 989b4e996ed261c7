"""`marketplace dashboard`: the local dashboard over the marts."""

from __future__ import annotations

import click

from ingestion.settings import load_settings


@click.group()
def dashboard() -> None:
    """The local dashboard over the DuckDB marts.

    A Streamlit app (dashboards/app/) that reads the warehouse read-only: headline
    metrics from the semantic layer, revenue, customers, the web funnel, payments,
    supply and clickstream delivery accounting.

    \b
    Examples:
      make demo && make dashboard
      marketplace dashboard serve --port 8502
    """


@dashboard.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: DASHBOARD_PORT, 8501).",
)
def serve(port: int | None) -> None:
    """Serve the dashboard on http://127.0.0.1:PORT until Ctrl-C.

    It needs a built warehouse (make demo) and reads it read-only, so a build can run
    beside it; reload the page to see the new numbers.

    \b
    Example:
      DATA_DIR=./data marketplace dashboard serve --port 8502
    """
    from marketplace.dashboard import serve as serve_dashboard

    serve_dashboard(load_settings(), port)
