"""`marketplace simulate`: the sample company's simulated source systems and their clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import click

from ingestion.errors import PlatformError
from ingestion.settings import load_settings, validate_sf
from marketplace.lock import data_dir_lock
from simulator import registry


@click.group()
def simulate() -> None:
    """Build and advance the simulated source systems (the demo's company, not the platform).

    \b
    Examples:
      marketplace simulate init --sf 0.01      # shop database, payments, partner files, clickstream
      marketplace simulate advance --days 1    # release the next simulated day in every source
      marketplace simulate status              # the simulated date of every source
    """


@simulate.command()
@click.option("--sf", type=float, default=None, help="TPC-H scale factor, 0.01 to 100 (default: $SF or 0.01).")
@click.option("--seed", type=int, default=None, help="Seed for everything random (default: $SEED or 42).")
@click.option(
    "--cutoff",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of history to load (default 1998-07-01; TPC-H orders end 1998-08-02).",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(["shop", *registry.OTHER_SOURCES]),
    help="Build only these sources besides the shop (repeatable): payments, partners, clickstream.",
)
def init(sf: float | None, seed: int | None, cutoff, only: tuple[str, ...]) -> None:
    """Create every source from scratch, with history up to CUTOFF.

    \b
    Examples:
      marketplace simulate init                    # SF 0.01, cutoff 1998-07-01
      marketplace simulate init --sf 1 --cutoff 1998-06-01
      marketplace simulate init --only payments   # shop + payments, no clickstream or partners
      SHOP_DB_URL=postgresql://postgres@localhost:5433/shop marketplace simulate init
    """
    from simulator import init_sources
    from simulator.footprint import require_disk_space

    settings = load_settings()
    if sf is not None:
        settings = replace(settings, sf=validate_sf(sf))
    if seed is not None:
        settings = replace(settings, seed=seed)
    require_disk_space(settings)  # before the lock file: nothing written when it cannot fit
    with data_dir_lock(settings):
        ctx = init_sources(settings, cutoff.date() if cutoff else None, only=only or None)
    click.echo(f"sources initialised at SF {settings.sf:g}; simulated date is {ctx.clock()}")


# A run of the daily DAG releases its own day; more than this at once is a wrong date, not a catch-up.
MAX_DAYS_TO = 31


@simulate.command()
@click.option("--days", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--to",
    "to",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=f"Release every day up to this date instead (none if it is already released; at most {MAX_DAYS_TO} days).",
)
def advance(days: int, to) -> None:
    """Release the next DAYS days in every source (new orders, changed rows, events...).

    --to makes it idempotent: the daily DAG releases the day of its run, and a re-run of
    that day releases nothing more.

    \b
    Examples:
      marketplace simulate advance --days 3
      marketplace simulate advance --to 1998-07-02
    """
    from simulator import advance_sources
    from simulator.context import SimContext

    settings = load_settings()
    with data_dir_lock(settings):  # the clock read and the release, one writer
        if to is not None:
            ctx = SimContext(settings)
            ctx.require_initialised()
            clock = ctx.clock()
            days = (to.date() - clock).days
            if days <= 0:
                click.echo(f"simulated date is already {clock}; nothing to release for {to.date()}")
                return
            if days > MAX_DAYS_TO:
                raise PlatformError(
                    f"{to.date()} is {days} days after the simulated date {clock}: at most {MAX_DAYS_TO} days "
                    f"are released at once (the next day is {clock + timedelta(days=1)}; "
                    "`marketplace simulate advance --days N` releases more)"
                )
        ctx = advance_sources(settings, days)
    click.echo(f"simulated date is now {ctx.clock()}")


@simulate.command()
def status() -> None:
    """Show the simulated date of every source."""
    from simulator.context import SimContext

    ctx = SimContext(load_settings())
    ctx.require_initialised()
    for source, day in sorted(ctx.watermarks().items()):
        click.echo(f"{source:12s} {day.isoformat()}")
