"""`marketplace`: the command line of the platform.

Thin by design: each command group is one module that parses options and hands the
work to library functions. Errors the user can fix print one line and exit 1.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from ingestion.errors import PlatformError, shorten_tracebacks, storage_problem
from ingestion.settings import unknown_variables

# dlt and dbt phone home unless told not to; offline that stalls runs on timeouts. These
# write the tools' own configuration; they read no setting.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# With Airflow installed beside it, dlt imports Airflow and looks up an Airflow Variable
# for its secrets on every run; secrets come from the environment here.
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")


class PlatformGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PlatformError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:
            # A full or read-only disk, or an S3 endpoint gone, outside a pipeline step.
            problem = storage_problem(exc)
            if problem is None:
                raise
            click.echo(f"error: {problem}", err=True)
            sys.exit(1)


@click.group(name="marketplace", cls=PlatformGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress at DEBUG level.")
def main(verbose: bool) -> None:
    """The marketplace data platform: ingest sources into the lake, process, report.

    Settings come from environment variables (`marketplace settings show`, .env.example).

    \b
    Examples:
      marketplace simulate init --sf 0.01     # the demo company's source systems
      marketplace ingest all                  # every dlt pipeline into the lake
      marketplace process all                 # landing → processed (DuckDB or Spark)
      marketplace report                      # headline numbers from the marts
      marketplace pg up                       # a throwaway PostgreSQL for DBT_TARGET=pg
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not verbose:
        # dlt logs a whole traceback for each retry of a load job: pages for one full disk;
        # s3fs's aiohttp futures, failed when an S3 endpoint goes away, reach asyncio's log.
        for name in ("dlt", "asyncio", "s3fs"):
            logging.getLogger(name).addFilter(shorten_tracebacks)
    for problem in unknown_variables():
        click.echo(f"warning: {problem}", err=True)


def _register() -> None:
    from marketplace.cli import (
        bench,
        bi,
        dashboard,
        dev_build,
        docs,
        ingest,
        lock,
        metrics,
        pg,
        process,
        publish,
        report,
        serve,
        settings,
        simulate,
    )

    for group in (
        simulate.simulate,
        ingest.ingest,
        process.process,
        serve.serve,
        report.report,
        bench.bench,
        pg.pg,
        settings.settings,
        docs.docs,
        dashboard.dashboard,
        bi.bi,
        metrics.metrics,
        dev_build.dev_build,
        publish.publish,
        lock.lock,
    ):
        main.add_command(group)


_register()
