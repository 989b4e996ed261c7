"""`marketplace metrics`: the semantic layer (MetricFlow over the dbt project)."""

from __future__ import annotations

import click


@click.group()
def metrics() -> None:
    """The metrics defined in the dbt project's semantic models, queried with MetricFlow."""
