"""`marketplace bi`: the QuickSight and Tableau definitions behind the exposures."""

from __future__ import annotations

from pathlib import Path

import click

from ingestion.errors import PlatformError
from ingestion.settings import load_settings, sql_identifier


@click.group()
def bi() -> None:
    """QuickSight datasets/analyses and Tableau data sources, generated from the marts' columns.

    The exposures with `meta.tool: quicksight` or `tableau` (models/marts/**/_*__exposures.yml)
    name the marts; their contracted columns give the fields and types. Publishing them is
    described in docs/publishing-dashboards.md.

    \b
    Examples:
      marketplace bi export
      marketplace bi export --warehouse athena --account-id 123456789012 --region us-east-1
    """


@bi.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default: $DATA_DIR/bi).",
)
@click.option(
    "--warehouse",
    type=click.Choice(["redshift", "athena"]),
    default=None,
    help="Where the BI tools read the marts (default: DBT_TARGET if it is one of these, else redshift).",
)
@click.option("--account-id", default=None, help="AWS account of QuickSight (default: 111122223333, a stand-in).")
@click.option("--region", default=None, help="AWS region of QuickSight and the warehouse (default: AWS_REGION).")
@click.option(
    "--schema",
    default="analytics",
    show_default=True,
    help="Schema of the marts on Redshift, or their Glue database on Athena.",
)
@click.option(
    "--database",
    default=None,
    help="Redshift database (default: REDSHIFT_DBNAME, else dev) or Athena data catalog (AwsDataCatalog).",
)
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A dbt manifest.json to read instead of running `dbt parse` first.",
)
def export(
    out_dir: Path | None,
    warehouse: str | None,
    account_id: str | None,
    region: str | None,
    schema: str,
    database: str | None,
    manifest: Path | None,
) -> None:
    """Write the QuickSight requests (create-data-source, create-data-set, create-analysis) and
    the Tableau .tds data sources for the exposures, and list the files written.

    Runs `dbt parse` first (into a temporary folder) unless --manifest is given, so the
    definitions always match the marts' YAML. Redshift's host and port come from
    REDSHIFT_HOST/REDSHIFT_PORT, Athena's workgroup from ATHENA_WORK_GROUP.

    \b
    Examples:
      marketplace bi export
      marketplace bi export --warehouse athena --schema marketplace_marts
      marketplace bi export --out dist/bi --account-id 123456789012 --region eu-west-1
    """
    from dashboards.bi import Warehouse, load_exposures
    from dashboards.bi import export as write_definitions
    from dashboards.bi.warehouse import EXAMPLE_ACCOUNT_ID
    from marketplace.bi import parsed_manifest

    settings = load_settings()
    sql_identifier("--schema", schema)  # both are written into the BI tools' SQL
    if database is not None:
        sql_identifier("--database", database)
    kind = warehouse or (settings.dbt_target if settings.dbt_target in ("redshift", "athena") else "redshift")
    if account_id is not None and not (len(account_id) == 12 and account_id.isdigit()):
        raise PlatformError(f"--account-id {account_id!r} is not an AWS account id (12 digits)")
    target = Warehouse(
        kind=kind,
        account_id=account_id or EXAMPLE_ACCOUNT_ID,
        region=region or (settings.athena_region if kind == "athena" else settings.aws_region),
        schema=schema,
        database=database or ("AwsDataCatalog" if kind == "athena" else settings.redshift_dbname or "dev"),
        host=settings.redshift_host,
        port=settings.redshift_port,
        work_group=settings.athena_work_group,
    )
    out_dir = (out_dir or settings.data_dir / "bi").absolute()
    if manifest is not None:
        written = write_definitions(load_exposures(manifest), target, out_dir)
    else:
        with parsed_manifest(settings) as parsed:
            written = write_definitions(load_exposures(parsed), target, out_dir)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"{len(written)} files for {kind} in {out_dir}; publishing: docs/publishing-dashboards.md")
    if not account_id:
        click.echo(f"note: account {EXAMPLE_ACCOUNT_ID} is a stand-in; pass --account-id for yours", err=True)
    if kind == "redshift" and not settings.redshift_host:
        click.echo(f"note: REDSHIFT_HOST is unset, so the data source names {target.endpoint}", err=True)
