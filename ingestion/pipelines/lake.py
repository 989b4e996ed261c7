"""What every pipeline shares: the lake's raw zone as a dlt destination."""

from __future__ import annotations

import os

import dlt

from ingestion.settings import Settings


def require_load_ids() -> None:
    """Make dlt add ``_dlt_load_id`` to Arrow rows: dbt staging reads only committed loads.

    This writes dlt's own configuration (its environment provider), it reads no setting.
    """
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")


def raw_destination(settings: Settings):
    """dlt's filesystem destination on ``$LAKE_URL/raw`` (a local folder or ``s3://``).

    On S3, credentials come from the usual AWS chain; ``AWS_ENDPOINT_URL`` points the
    same code at a local S3 (moto's server) in tests.
    """
    return zone_destination(settings, "raw")


def zone_destination(settings: Settings, zone: str):
    """Like ``raw_destination``, on any lake zone (``quarantine`` for rejected rows)."""
    kwargs = {}
    if settings.lake_url.startswith("s3://") and settings.aws_endpoint_url:
        kwargs["credentials"] = {
            "aws_access_key_id": settings.aws_access_key_id or None,
            "aws_secret_access_key": settings.aws_secret_access_key or None,
            "endpoint_url": settings.aws_endpoint_url,
            "region_name": settings.aws_region,
        }
    return dlt.destinations.filesystem(bucket_url=settings.zone_url(zone), **kwargs)


def loaded_rows(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per data table in the pipeline's last run (dlt's own tables left out)."""
    trace = pipeline.last_trace
    info = trace.last_normalize_info if trace else None
    if info is None:
        return {}
    return {t: n for t, n in info.row_counts.items() if not t.startswith("_dlt")}


def root_exception(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def root_cause(exc: BaseException) -> str:
    exc = root_exception(exc)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
