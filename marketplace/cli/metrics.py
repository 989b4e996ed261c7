"""`marketplace metrics`: the semantic layer (MetricFlow over the dbt project)."""

from __future__ import annotations

from pathlib import Path

import click

from ingestion.settings import load_settings
from marketplace.devenv import ROOT

# The example `make metrics` runs: the business's numbers by year, then over all time.
EXAMPLE_QUERIES = (
    ("revenue,net_revenue,orders,average_order_value", "metric_time__year"),
    ("orders,conversion_rate,refund_rate,cash_collected", ""),
)


@click.group()
def metrics() -> None:
    """The metrics defined in the dbt project's semantic models, queried with MetricFlow.

    The definitions live in models/marts/_semantic_models.yml; `mf` (dbt-metricflow, in
    the venv) queries them on the current DBT_TARGET from the project root.

    \b
    Examples:
      marketplace metrics example
      mf list metrics
      mf query --metrics revenue --group-by metric_time__month,daily_nation_revenue__region_name
    """


@metrics.command()
@click.option(
    "--project-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT,
    show_default=False,
    help="The dbt project (default: this repository); its target/ holds the semantic manifest.",
)
def example(project_dir: Path) -> None:
    """Validate the semantic layer and run two example MetricFlow queries, printing each command.

    \b
    Example:
      make demo && make metrics
    """
    from marketplace.metrics import run_example

    run_example(load_settings(), project_dir, EXAMPLE_QUERIES)
