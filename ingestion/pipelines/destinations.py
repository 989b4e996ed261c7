"""Where a pipeline loads: the lake's raw zone, or the warehouse of the dbt target.

Lake-first targets (``dev``, ``ci``, ``spark``) read raw Parquet from the lake, so their
pipelines write there. ``pg`` and ``redshift`` are warehouse-first: dlt loads the raw
schemas (``raw_<pipeline>``) into the database, Redshift through S3 staging files and
``COPY``, as production does. ``athena`` keeps the data in the lake but registers every
table in the Glue catalog, so Athena queries it as ``raw_<pipeline>.<table>``.

``INGEST_DESTINATION=lake`` (or ``warehouse``) overrides what the target implies, e.g.
to fill the lake for the ``spark`` target while ``DBT_TARGET=pg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import dlt

from ingestion.errors import PlatformError
from ingestion.pipelines import lake
from ingestion.settings import Settings

WAREHOUSE_FIRST = {"pg": "postgres", "redshift": "redshift", "athena": "athena"}


@dataclass(frozen=True)
class Destination:
    """Everything ``dlt.pipeline`` needs to know about where a pipeline's data goes."""

    name: str  # "filesystem", "postgres", "redshift" or "athena"
    destination: Any
    dataset_name: str
    staging: Any = None

    @property
    def is_lake(self) -> bool:
        return self.name == "filesystem"

    def pipeline_kwargs(self, pipeline_name: str) -> dict[str, Any]:
        """``pipeline_name``, destination, dataset (and staging) for ``dlt.pipeline``.

        Each destination gets its own pipeline name, so its own state: incremental cursors
        of a lake load must not make a first warehouse load skip the history.
        """
        kwargs = {
            "pipeline_name": pipeline_name if self.is_lake else f"{pipeline_name}_{self.name}",
            "destination": self.destination,
            "dataset_name": self.dataset_name,
        }
        if self.staging is not None:
            kwargs["staging"] = self.staging
        return kwargs


def kind(settings: Settings) -> str:
    """``lake`` or ``warehouse``: ``INGEST_DESTINATION`` if set, else what the target implies."""
    choice = settings.ingest_destination
    if choice == "auto":
        return "warehouse" if settings.dbt_target in WAREHOUSE_FIRST else "lake"
    if choice == "warehouse" and settings.dbt_target not in WAREHOUSE_FIRST:
        raise PlatformError(
            f"INGEST_DESTINATION=warehouse needs DBT_TARGET pg, redshift or athena; "
            f"{settings.dbt_target!r} reads the lake"
        )
    return choice


def for_pipeline(pipeline_name: str, settings: Settings, zone: str = "raw") -> Destination:
    """The destination and dataset of pipeline ``pipeline_name`` under these settings.

    In the lake the dataset is the pipeline name (``<zone>/<pipeline>/<table>/``); in a
    warehouse it is ``<zone>_<pipeline>`` (``raw_shop``, ``quarantine_partners``), the
    schema the dbt sources name.
    """
    if kind(settings) == "lake":
        return Destination("filesystem", lake.zone_destination(settings, zone), pipeline_name)
    dataset = f"{zone}_{pipeline_name}"
    target = settings.dbt_target
    if target == "pg":
        return Destination("postgres", dlt.destinations.postgres(credentials=postgres_url(settings)), dataset)
    if target == "redshift":
        _require_s3_lake(settings, target)
        destination = dlt.destinations.redshift(
            credentials=redshift_credentials(settings),
            staging_iam_role=settings.redshift_copy_role_arn or None,
        )
        return Destination("redshift", destination, dataset, staging=lake.raw_destination(settings))
    _require_s3_lake(settings, target)
    destination = dlt.destinations.athena(
        query_result_bucket=_required(settings.athena_s3_staging_dir, "ATHENA_S3_STAGING_DIR", target),
        athena_work_group=settings.athena_work_group,
        credentials={"region_name": settings.athena_region},
    )
    return Destination("athena", destination, dataset, staging=lake.raw_destination(settings))


def file_format(pipeline: dlt.Pipeline, items: str = "arrow") -> str:
    """The load file format for ``pipeline``'s destination: Parquet, except on PostgreSQL.

    PostgreSQL loads Parquet only through the ADBC driver, which the project does not
    install. Arrow tables (``items="arrow"``) go in as CSV with ``COPY``, its fastest path;
    Python dicts (``items="objects"``) as INSERTs, because dlt 1.31's CSV writer
    over-counts the rows of object items in its load report (300 rows reported as 1,200),
    and the pipelines report those counts.
    """
    if pipeline.destination.destination_name != "postgres":
        return "parquet"
    return "csv" if items == "arrow" else "insert_values"


def described(pipeline: dlt.Pipeline, settings: Settings) -> str:
    """Where ``pipeline`` loaded, for people: the lake folder or ``<warehouse> schema <dataset>``."""
    name = pipeline.destination.destination_name
    if name == "filesystem":
        return pipeline.destination.config_params.get("bucket_url", settings.lake_url) + f"/{pipeline.dataset_name}"
    return f"{name} schema {pipeline.dataset_name}"


def postgres_url(settings: Settings) -> str:
    """The ``pg`` target's server as a URL, from the same variables as profiles/profiles.yml."""
    user = quote(settings.pg_user, safe="")
    # Always "user:password@": dlt counts an absent password as missing configuration,
    # while an empty one is what the local cluster's trust authentication expects.
    auth = f"{user}:{quote(settings.pg_password, safe='')}"
    return f"postgresql://{auth}@{settings.pg_host}:{settings.pg_port}/{settings.pg_dbname}"


def redshift_credentials(settings: Settings) -> dict[str, Any]:
    return {
        "host": _required(settings.redshift_host, "REDSHIFT_HOST", "redshift"),
        "port": settings.redshift_port,
        "username": _required(settings.redshift_loader_user, "REDSHIFT_LOADER_USER", "redshift"),
        "password": _required(settings.redshift_loader_password, "REDSHIFT_LOADER_PASSWORD", "redshift"),
        "database": _required(settings.redshift_dbname, "REDSHIFT_DBNAME", "redshift"),
    }


def _required(value: str, name: str, target: str) -> str:
    if not value:
        raise PlatformError(f"target {target}: set {name} to load the raw schemas into the warehouse")
    return value


def _require_s3_lake(settings: Settings, target: str) -> None:
    # Redshift COPY and Athena read staged files from S3, never from a laptop folder.
    if not settings.lake_url.startswith("s3://"):
        raise PlatformError(
            f"target {target}: LAKE_URL must be an s3:// bucket to stage loads (it is {settings.lake_url})"
        )
