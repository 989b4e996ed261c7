"""`marketplace report`: where the results are, and headline numbers from the marts."""

from __future__ import annotations

import click

from ingestion.settings import load_settings


@click.command()
def report() -> None:
    """Print where the lake, warehouse and docs are, and headline numbers from the DuckDB marts.

    \b
    Example:
      make demo && marketplace report
    """
    from marketplace.report import print_report

    print_report(load_settings())
