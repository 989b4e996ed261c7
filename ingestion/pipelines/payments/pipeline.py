"""Run the ``payments`` pipeline: payments API → lake raw zone (Parquet), or ``raw_payments`` in the warehouse."""

from __future__ import annotations

import logging
import time

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.errors import PlatformError
from ingestion.pipelines import destinations, lake, recovery
from ingestion.pipelines.payments import payments_api
from ingestion.pipelines.payments.helpers import check_token
from ingestion.pipelines.payments.settings import BASE_URL_KEY, PIPELINE_NAME, TOKEN_KEY
from ingestion.settings import Settings

log = logging.getLogger(__name__)


def configured_api() -> tuple[str | None, str | None]:
    """(base URL, token) from dlt's configuration; either may be None."""
    return dlt.config.get(BASE_URL_KEY), dlt.secrets.get(TOKEN_KEY)


def run(
    settings: Settings,
    base_url: str | None = None,
    token: str | None = None,
    progress: str = "log",
    **source_options,
) -> dict:
    """Load new and changed charges and refunds into ``$LAKE_URL/raw/payments/<table>/``.

    ``base_url`` and ``token`` default to dlt's configuration (``SOURCES__PAYMENTS__BASE_URL``,
    ``SOURCES__PAYMENTS__TOKEN``). ``source_options`` go to ``payments_api`` (page size,
    retry attempts and backoff).
    """
    if not (base_url and token):
        configured_url, configured_token = configured_api()
        base_url, token = base_url or configured_url, token or configured_token
    if not base_url:
        raise PlatformError("payments: set SOURCES__PAYMENTS__BASE_URL to the API's base URL")
    if not token:
        raise PlatformError(f"payments: set SOURCES__PAYMENTS__TOKEN, the bearer token of {base_url}")
    lake.require_load_ids()
    check_token(base_url, token)
    pipeline = dlt.pipeline(
        **destinations.for_pipeline(PIPELINE_NAME, settings).pipeline_kwargs(PIPELINE_NAME),
        pipelines_dir=str(settings.pipelines_dir),
        progress=progress,
    )
    started = time.monotonic()
    # Else run() would load a killed run's package and skip the pages since its cursors.
    recovery.finish_interrupted(pipeline)
    try:
        info = pipeline.run(
            payments_api(base_url=base_url, token=token, **source_options),
            loader_file_format=destinations.file_format(pipeline, items="objects"),
        )
    except PipelineStepFailed as exc:
        # A failed extract leaves no load package: nothing reaches the lake and the
        # cursors stay where the last good run left them. A load that fails later is
        # kept by dlt and finished by the next run; staging reads committed loads only.
        raise lake.step_failed(exc) from exc
    info.raise_on_failed_jobs()
    seconds = time.monotonic() - started
    rows = lake.loaded_rows(pipeline)
    total = sum(rows.values())
    log.info("payments: %s rows in %.1fs", f"{total:,}", seconds)
    return {
        "rows": rows,
        "seconds": seconds,
        "records_per_s": total / max(seconds, 1e-9),
        "load_ids": list(info.loads_ids),
        "destination": destinations.described(pipeline, settings),
    }
