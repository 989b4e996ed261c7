"""`marketplace pg`: a throwaway local PostgreSQL, the shop's RDS and the Redshift rehearsal."""

from __future__ import annotations

from pathlib import Path

import click

from ingestion.devservices import postgres
from ingestion.settings import load_settings


@click.group()
def pg() -> None:
    """Start and stop a throwaway PostgreSQL on 127.0.0.1 (durability off: test scaffolding).

    \b
    Examples:
      marketplace pg up                       # in $PG_DIR, on a free port; prints its URL
      DBT_TARGET=pg PG_PORT=$(cat $PG_DIR/port) make run
      marketplace pg down --remove            # stop it and delete its files
    """


@pg.command()
@click.option(
    "--dir", "base_dir", type=click.Path(path_type=Path), default=None, help="Cluster folder (default $PG_DIR)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: a free one).")
def up(base_dir: Path | None, port: int | None) -> None:
    """Create (if needed) and start the cluster; prints its URL (the port is kept in DIR/port)."""
    click.echo(postgres.start(base_dir or load_settings().pg_dir, port).url)


@pg.command()
@click.option(
    "--dir", "base_dir", type=click.Path(path_type=Path), default=None, help="Cluster folder (default $PG_DIR)."
)
@click.option("--remove", is_flag=True, help="Delete the cluster's files too.")
def down(base_dir: Path | None, remove: bool) -> None:
    """Stop the cluster."""
    postgres.stop(base_dir or load_settings().pg_dir, remove=remove)
