"""`ingestion sources`: the simulated clock of the sample company's source systems."""

from __future__ import annotations

from dataclasses import replace

import click

from ingestion.settings import load_settings, validate_sf
from ingestion.simulator import registry


@click.group()
def sources() -> None:
    """Build and advance the simulated source systems."""


@sources.command()
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
      ingestion sources init                    # SF 0.01, cutoff 1998-07-01
      ingestion sources init --sf 1 --cutoff 1998-06-01
      ingestion sources init --only payments   # shop + payments, no clickstream or partners
      SHOP_DB_URL=postgresql://postgres@localhost:5433/shop ingestion sources init
    """
    from ingestion.simulator import init_sources

    settings = load_settings()
    if sf is not None:
        settings = replace(settings, sf=validate_sf(sf))
    if seed is not None:
        settings = replace(settings, seed=seed)
    ctx = init_sources(settings, cutoff.date() if cutoff else None, only=only or None)
    click.echo(f"sources initialised at SF {settings.sf:g}; simulated date is {ctx.clock()}")


@sources.command()
@click.option("--days", type=click.IntRange(min=1), default=1, show_default=True)
def advance(days: int) -> None:
    """Release the next DAYS days in every source (new orders, changed rows, events...).

    \b
    Example:
      ingestion sources advance --days 3
    """
    from ingestion.simulator import advance_sources

    ctx = advance_sources(load_settings(), days)
    click.echo(f"simulated date is now {ctx.clock()}")


@sources.command()
def status() -> None:
    """Show the simulated date of every source."""
    from ingestion.simulator.context import SimContext

    ctx = SimContext(load_settings())
    ctx.require_initialised()
    for source, day in sorted(ctx.watermarks().items()):
        click.echo(f"{source:12s} {day.isoformat()}")
