"""What every pipeline shares: the lake's raw zone as a dlt destination."""

from __future__ import annotations

import os

import dlt

from ingestion.settings import Settings


def raw_destination(settings: Settings):
    """dlt's filesystem destination on ``$LAKE_URL/raw`` (a local folder or ``s3://``).

    On S3, credentials come from the usual AWS chain; ``AWS_ENDPOINT_URL`` points the
    same code at a local S3 (moto's server) in tests.
    """
    return zone_destination(settings, "raw")


def zone_destination(settings: Settings, zone: str):
    """Like ``raw_destination``, on any lake zone (``quarantine`` for rejected rows)."""
    kwargs = {}
    if settings.lake_url.startswith("s3://") and os.environ.get("AWS_ENDPOINT_URL"):
        kwargs["credentials"] = {
            "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID"),
            "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY"),
            "endpoint_url": os.environ["AWS_ENDPOINT_URL"],
            "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        }
    return dlt.destinations.filesystem(bucket_url=settings.zone_url(zone), **kwargs)


def loaded_rows(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per data table in the pipeline's last run (dlt's own tables left out)."""
    trace = pipeline.last_trace
    info = trace.last_normalize_info if trace else None
    if info is None:
        return {}
    return {t: n for t, n in info.row_counts.items() if not t.startswith("_dlt")}


def root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
