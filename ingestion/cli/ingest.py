"""`ingestion ingest`: run dlt pipelines from the sources into the lake (or the warehouse's raw schemas)."""

from __future__ import annotations

import click

from ingestion import pipelines
from ingestion.settings import load_settings


@click.command()
@click.argument("names", nargs=-1, type=click.Choice([*pipelines.PIPELINES, "all"]))
def ingest(names: tuple[str, ...]) -> None:
    """Load new and changed data from the named sources (default: all) into the lake,
    or into the warehouse's raw_<source> schemas when DBT_TARGET is pg, redshift or athena.

    \b
    Examples:
      ingestion ingest            # every pipeline
      ingestion ingest shop       # only the shop database
    """
    settings = load_settings()
    selected = pipelines.PIPELINES if not names or "all" in names else names
    for name in selected:
        summary = pipelines.get(name).run(settings)
        rows = sum(summary.get("rows", {}).values())
        where = summary.get("destination", settings.zone_url("raw", name))
        click.echo(f"{name}: loaded {rows:,} rows into {where}")
