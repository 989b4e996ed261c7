"""`marketplace dashboard`: the local dashboard over the marts."""

from __future__ import annotations

import click


@click.group()
def dashboard() -> None:
    """The local dashboard over the DuckDB marts."""
