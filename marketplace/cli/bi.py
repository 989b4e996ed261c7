"""`marketplace bi`: the QuickSight and Tableau definitions behind the exposures."""

from __future__ import annotations

import click


@click.group()
def bi() -> None:
    """QuickSight datasets/analyses and Tableau data sources, generated from the marts' columns."""
