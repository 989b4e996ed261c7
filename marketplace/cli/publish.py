"""`marketplace publish`: build and test in staging, swap into place only if every test passed."""

from __future__ import annotations

import click

from ingestion.errors import PlatformError
from ingestion.settings import load_settings
from marketplace.devenv import ROOT


@click.command(name="publish")
@click.option("--fail-fast", is_flag=True, help="Stop the staging build at its first failure (reports fewer failures).")
def publish(fail_fast: bool) -> None:
    """Write, audit, publish: dbt build into staging, every test there, then swap it live.

    On DBT_TARGET dev or ci the staging area is a copy of the warehouse,
    $DATA_DIR/publish/warehouse.duckdb, renamed over $DATA_DIR/warehouse.duckdb in one
    step when the build and every test pass (then the manifest is saved for dev-build,
    as `make build` does). On pg it is a set of `<schema>__staging` schemas, renamed
    over the live ones in one transaction. If anything fails, nothing live changes: one
    line per failing test gives its failing row count and the audit table holding the
    rows (dbt --store-failures), and the staging area stays for a look until the next
    publish.

    \b
    Examples:
      make publish                            # the same, from the front door
      marketplace publish                     # DuckDB: build a copy, test it, swap it in
      DBT_TARGET=pg marketplace publish       # PostgreSQL: staging schemas, then a rename
      marketplace publish --fail-fast         # stop at the first failing test
    """
    from marketplace import publish as wap
    from marketplace.lock import data_dir_lock

    settings = load_settings()
    with data_dir_lock(settings):  # no build, ingest or other publish while it copies and swaps
        outcome = wap.publish(settings, ROOT, fail_fast)
    if not outcome.published:
        for failure in outcome.failures:
            click.echo(failure.line(outcome.audit_place), err=True)
        tests = sum(1 for f in outcome.failures if f.resource_type == "test")
        raise PlatformError(
            f"publish stopped: {len(outcome.failures)} node(s) failed in staging ({tests} test(s)); "
            f"nothing was published, the live warehouse ({outcome.live}) is untouched"
        )
    took = f"{outcome.seconds:.1f} s, of which dbt build {outcome.build_seconds:.1f} s"
    if outcome.engine == "duckdb":
        click.echo(f"published: {outcome.live} is now the build tested in staging ({took})")
    else:
        click.echo(
            f"published: schemas {outcome.staging} renamed into place in {outcome.live} "
            f"({len(outcome.swapped)} replaced; {took})"
        )
