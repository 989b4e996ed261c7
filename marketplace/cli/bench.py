"""`marketplace bench`: the benchmarks behind docs/benchmarks.md."""

from __future__ import annotations

import click


@click.command()
def bench() -> None:
    """Measure every path at the scale factors in $BENCH_SF and write docs/benchmarks.md.

    Run from a clone of the repository (the benchmarks are not part of the installed package).

    \b
    Examples:
      marketplace bench                              # SF 0.01, 0.1 and 1
      BENCH_SF="0.01" BENCH_REPEAT=1 marketplace bench
    """
    from benchmarks import run

    run.main()
