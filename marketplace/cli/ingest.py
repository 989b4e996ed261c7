"""`marketplace ingest`: run dlt pipelines from the sources into the lake (or the warehouse's raw schemas)."""

from __future__ import annotations

import click

from ingestion import pipelines
from ingestion.settings import Settings, load_settings
from marketplace import demo
from marketplace.lock import data_dir_lock


@click.command()
@click.argument("names", nargs=-1, type=click.Choice([*pipelines.PIPELINES, "all"]))
@click.option(
    "--bulk",
    is_flag=True,
    help="Shop only: the first load of a large shop database as one snapshot (DuckDB copies each table"
    " to Parquet, dlt loads the files), into an empty lake; then `marketplace ingest shop` for the changes.",
)
def ingest(names: tuple[str, ...], bulk: bool) -> None:
    """Load new and changed data from the named sources (default: all) into the lake,
    or into the warehouse's raw_<source> schemas when DBT_TARGET is pg, redshift or athena.

    Sources are found through their settings (SHOP_DB_URL, SOURCES__PAYMENTS__BASE_URL, ...).
    With no payments API configured, the simulated one is served for the run.

    \b
    Examples:
      marketplace ingest                  # every pipeline
      marketplace ingest shop             # only the shop database
      marketplace ingest shop --bulk      # the shop's first load, as a snapshot (empty lake only)
      SHOP_DB_URL=postgresql://loader:***@rds.example:5432/shop marketplace ingest shop
      SOURCES__PAYMENTS__BASE_URL=https://api.example SOURCES__PAYMENTS__TOKEN=*** marketplace ingest payments
    """
    if bulk and names != ("shop",):
        raise click.UsageError("--bulk loads the shop only: marketplace ingest shop --bulk")
    settings = load_settings()
    selected = pipelines.PIPELINES if not names or "all" in names else names
    with data_dir_lock(settings):
        for name in selected:
            summary = _bulk_load(settings) if bulk else demo.run_pipeline(name, settings)
            rows = sum(summary.get("rows", {}).values())
            where = summary.get("destination", settings.zone_url("raw", name))
            click.echo(f"{name}: loaded {rows:,} rows into {where}")


def _bulk_load(settings: Settings) -> dict:
    from ingestion.pipelines.shop import bulk  # as pipelines.get does: dlt loads only for a run

    return bulk.run(settings)
