"""What every pipeline shares: the lake's raw zone as a dlt destination."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import dlt
import pyarrow.parquet as pq
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.errors import PlatformError, storage_problem
from ingestion.settings import Settings

log = logging.getLogger(__name__)


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


def step_failed(exc: PipelineStepFailed) -> PlatformError:
    """The one line a failed dlt step becomes; a failed load first removes its partial files."""
    pipeline = exc.pipeline
    if exc.step == "load":
        remove_partial_files(pipeline)
    # extract and normalize write only to the pipeline's working folder
    cause = storage_problem(exc, where=None if exc.step == "load" else pipeline.working_dir) or root_cause(exc)
    return PlatformError(f"{pipeline.pipeline_name} pipeline failed at step {exc.step}: {cause}")


def remove_partial_files(pipeline: dlt.Pipeline) -> list[Path]:
    """Delete the files of the pipeline's unfinished loads that a failed write left cut short.

    On a local lake dlt copies each file straight to its final name, so a disk that fills
    up mid-copy leaves a truncated (often empty) Parquet file there. dbt staging
    skips rows of uncommitted loads, but DuckDB cannot even open such a file, so every
    read of the table would fail until the re-run rewrote it. The job that wrote it did
    not complete, so the re-run writes it again; whole files of completed jobs stay.
    S3 shows an object only once its upload is complete, so there is nothing to remove.
    """
    bucket = str(getattr(pipeline.destination, "config_params", {}).get("bucket_url") or "")
    if not bucket or ("://" in bucket and not bucket.startswith("file://")):
        return []
    root = Path(bucket.removeprefix("file://")) / pipeline.dataset_name
    removed = []
    for package in Path(pipeline.working_dir).glob("load/normalized/*"):
        for path in root.glob(f"*/*{package.name}*"):
            if path.is_file() and not _whole(path):
                try:
                    path.unlink()
                except OSError as exc:
                    log.warning("%s: could not remove the partial file %s: %s", pipeline.pipeline_name, path, exc)
                    continue
                log.warning("%s: removed %s, cut short by the failed load", pipeline.pipeline_name, path)
                removed.append(path)
    return removed


def _whole(path: Path) -> bool:
    """Whether a lake file reads to its end: Parquet up to its footer, JSON lines line by line."""
    try:
        if path.suffix == ".parquet":
            pq.read_metadata(path)
        elif path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                json.loads(line)
    except (OSError, ValueError):
        return False
    return True


def root_exception(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def root_cause(exc: BaseException) -> str:
    """The first line of the innermost error; a storage fault as what to do about it."""
    problem = storage_problem(exc)
    if problem:
        return problem
    exc = root_exception(exc)
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
