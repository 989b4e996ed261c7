"""The sample company's source systems, simulated locally and driven by one clock.

``init_sources`` builds every source's history up to a cutoff date; ``advance_sources``
releases the next days in every source. The shop database owns the clock: its
``simulator_clock`` table holds one row per source with the last day that source has
produced, so a crash part-way through an advance is repaired by running it again (each
source catches up to the shop's day; producing a day twice writes the same thing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from ingestion.settings import Settings
from simulator import registry
from simulator.context import SimContext

log = logging.getLogger(__name__)


def init_sources(settings: Settings, cutoff: date | None = None, only: Sequence[str] | None = None) -> SimContext:
    """Build the shop database and every other source's history up to ``cutoff``.

    ``only`` names the other sources to build (the shop is always built); the rest stay
    switched off, and ``advance`` leaves them alone.
    """
    from simulator import shop
    from simulator.footprint import require_disk_space

    require_disk_space(settings)
    ctx = SimContext(settings)
    shop.init(ctx, cutoff or shop.DEFAULT_CUTOFF)
    for sim in registry.others():
        if only is not None and sim.name not in only:
            continue
        log.info("%s: building history up to %s", sim.name, ctx.clock())
        sim.init(ctx)
        ctx.set_watermark(sim.name, ctx.clock())
    return ctx


def advance_sources(settings: Settings, days: int) -> SimContext:
    """Release the next ``days`` days in every source."""
    from simulator import shop

    ctx = SimContext(settings)
    ctx.require_initialised()
    shop.advance(ctx, days)
    catch_up(ctx)
    return ctx


def catch_up(ctx: SimContext) -> None:
    """Bring every source that was initialised up to the shop's day, one day at a time."""
    target = ctx.clock()
    for sim in registry.others():
        day = ctx.watermark(sim.name)
        if day is None:
            log.info("%s: not initialised (sources init --only), left alone", sim.name)
            continue
        while day < target:
            day += timedelta(days=1)
            sim.produce_day(ctx, day)
            ctx.set_watermark(sim.name, day)
