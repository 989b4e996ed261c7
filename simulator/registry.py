"""Source simulators other than the shop, run after it in this order.

Each entry is a module with ``name``, ``init(ctx)`` (history up to ``ctx.clock()``) and
``produce_day(ctx, day)`` (one simulated day; producing a day twice must write the same
files or rows, because a crashed advance is repaired by running it again).
"""

from __future__ import annotations

import importlib
from types import ModuleType

OTHER_SOURCES: tuple[str, ...] = ("payments", "partners", "clickstream")


def others() -> list[ModuleType]:
    return [importlib.import_module(f"simulator.{name}") for name in OTHER_SOURCES]
