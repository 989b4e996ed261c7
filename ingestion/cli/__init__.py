"""`ingestion`: the command line of the platform's Python side.

Thin by design: each command group is one module that parses options and hands the
work to library functions. Errors the user can fix print one line and exit 1.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from ingestion.errors import PlatformError

# dlt and dbt phone home unless told not to; offline that stalls runs on timeouts.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


class PlatformGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PlatformError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=PlatformGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress at DEBUG level.")
def main(verbose: bool) -> None:
    """Simulate the marketplace's source systems and load them into the lake.

    \b
    Examples:
      ingestion sources init --sf 0.01     # build the shop database (and other sources)
      ingestion sources advance --days 1   # release the next simulated day
      ingestion ingest all                 # run every dlt pipeline into the lake
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _register() -> None:
    from ingestion.cli import ingest, process, serve, sources

    main.add_command(sources.sources)
    main.add_command(ingest.ingest)
    main.add_command(serve.serve)
    main.add_command(process.process)


_register()
