"""`marketplace process`: pre-process raw drops in the lake (landing → processed)."""

from __future__ import annotations

import importlib

import click

from ingestion.settings import load_settings
from marketplace.lock import data_dir_lock

# Each job module has run(settings, engine) -> counts of the batch it processed.
JOBS = {"clickstream": "processing.clickstream"}
# Warehouse-first targets (pg, redshift, athena) get each job's output loaded by dlt.
PUBLISH = {"clickstream": "ingestion.pipelines.clickstream.warehouse"}


@click.command()
@click.argument("names", nargs=-1, type=click.Choice([*JOBS, "all"]))
@click.option(
    "--engine",
    type=click.Choice(["auto", "duckdb", "spark"]),
    default="auto",
    show_default=True,
    help="auto: DuckDB for small inputs, Spark above the threshold.",
)
def process(names: tuple[str, ...], engine: str) -> None:
    """Run the processing jobs (default: all) on the landing files not processed yet.

    With a warehouse-first DBT_TARGET (pg, redshift, athena), the output is then loaded
    into the warehouse's processed_<job> schema as well.

    \b
    Examples:
      marketplace process                          # every job, engine by input size
      marketplace process clickstream --engine spark
    """
    settings = load_settings()
    selected = tuple(JOBS) if not names or "all" in names else names
    with data_dir_lock(settings):
        for name in selected:
            s = importlib.import_module(JOBS[name]).run(settings, engine)
            click.echo(
                f"{name} ({s['engine']}): {s['files']:,} files, {s['delivered']:,} lines → "
                f"{s['processed']:,} kept, {s['quarantined']:,} quarantined, "
                f"{s['duplicates']:,} duplicates; {s['partitions_rewritten']} partitions "
                f"written in {s['seconds']:.1f}s"
            )
            publisher = importlib.import_module(PUBLISH[name])
            if publisher.needed(settings):
                loaded = publisher.run(settings)
                click.echo(f"{name}: loaded {sum(loaded['rows'].values()):,} rows into {loaded['destination']}")
