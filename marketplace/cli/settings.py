"""`marketplace settings`: every setting, its value and the generated lists."""

from __future__ import annotations

import click

from ingestion import settings as platform_settings
from ingestion.pipelines.shop.helpers import redacted


@click.group()
def settings() -> None:
    """Every variable the platform reads, from ingestion/settings.py.

    \b
    Examples:
      marketplace settings show                    # validate the current environment, print values
      marketplace settings env-example > .env.example
      marketplace settings doc > docs/settings.md
    """


@settings.command()
def show() -> None:
    """Validate the environment's settings and print them (secrets masked)."""
    loaded = platform_settings.load_settings()
    click.echo(f"{'DATA_DIR':<24} {loaded.data_dir}")
    click.echo(f"{'LAKE_URL':<24} {loaded.lake_url}")
    click.echo(f"{'DBT_TARGET':<24} {loaded.dbt_target}")
    click.echo(f"{'SHOP_DB_URL':<24} {redacted(loaded.shop_db_url)}")
    click.echo(f"{'SF':<24} {loaded.sf:g}")
    click.echo(f"{'INGEST_DESTINATION':<24} {loaded.ingest_destination}")
    click.echo(f"{'CLICKSTREAM_DELIVERY':<24} {loaded.clickstream_delivery}")


@settings.command("env-example")
def env_example() -> None:
    """Print .env.example: every variable at its default, with its meaning."""
    click.echo(platform_settings.env_example(), nl=False)


@settings.command()
def doc() -> None:
    """Print docs/settings.md: every variable as a table per group."""
    click.echo(platform_settings.settings_doc(), nl=False)
