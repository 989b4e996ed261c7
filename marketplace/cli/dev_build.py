"""`marketplace dev-build`: the analyst's change loop (build what changed, in a sandbox)."""

from __future__ import annotations

from pathlib import Path

import click

from ingestion.settings import load_settings
from marketplace.devenv import ROOT


@click.command(name="dev-build")
@click.option(
    "-s",
    "--select",
    "select",
    multiple=True,
    help="dbt node selection instead of state:modified+ (repeatable), e.g. a model you did not change.",
)
@click.option("--exclude", multiple=True, help="dbt nodes to leave out (repeatable).")
@click.option(
    "--project-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT,
    show_default=False,
    help="The dbt project to build (default: this repository).",
)
def dev_build(select: tuple[str, ...], exclude: tuple[str, ...], project_dir: Path) -> None:
    """Build and test only the models changed since the last production build, and their children.

    dbt compares the project with the manifest that `make build` saved in DBT_STATE_DIR
    and runs `dbt build --select state:modified+ --defer` on the `sandbox` target: the
    changed models and everything downstream are built and tested in
    $DATA_DIR/sandbox.duckdb, a fresh file each run, reading every unchanged parent from
    the production warehouse, which is attached read-only and never written.

    \b
    Examples:
      make build                                   # production, and the manifest to compare with
      marketplace dev-build                        # what you changed, and its children
      marketplace dev-build --select state:modified+ --exclude fct_sessions
      marketplace dev-build --select fct_orders+   # a model and its children, changed or not
    """
    from marketplace import dev_build as loop

    settings = load_settings()
    built = loop.build(settings, project_dir, select or loop.DEFAULT_SELECT, exclude)
    click.echo(loop.summary(built, settings))
