"""`marketplace docs`: the dbt docs and lineage site."""

from __future__ import annotations

import click


@click.group()
def docs() -> None:
    """The dbt docs and lineage site (models, sources, exposures and their lineage)."""
