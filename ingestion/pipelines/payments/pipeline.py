"""Run the ``payments`` pipeline: payments API → lake raw zone (Parquet), or ``raw_payments`` in the warehouse."""

from __future__ import annotations

import logging
import os
import time
from contextlib import ExitStack

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.errors import PlatformError
from ingestion.pipelines import destinations, lake
from ingestion.pipelines.payments import payments_api
from ingestion.pipelines.payments.helpers import check_token
from ingestion.pipelines.payments.settings import (
    PIPELINE_NAME,
    RATE_LIMIT_ENV,
    TOKEN_ENV,
    URL_ENV,
)
from ingestion.settings import Settings
from ingestion.simulator import payments as provider
from ingestion.simulator import payments_api as local_api

log = logging.getLogger(__name__)


def run(settings: Settings, progress: str = "log", **source_options) -> dict:
    """Load new and changed charges and refunds into ``$LAKE_URL/raw/payments/<table>/``.

    With ``PAYMENTS_API_URL`` unset, the local simulator's API is started on a free port
    for the duration of the run (token: ``PAYMENTS_API_TOKEN`` or the simulator's default).
    ``source_options`` go to ``payments_api`` (page size, retry attempts and backoff).
    """
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    with ExitStack() as stack:
        base_url, token, server = _api(settings, stack)
        check_token(base_url, token)
        pipeline = dlt.pipeline(
            **destinations.for_pipeline(PIPELINE_NAME, settings).pipeline_kwargs(PIPELINE_NAME),
            pipelines_dir=str(settings.pipelines_dir),
            progress=progress,
        )
        started = time.monotonic()
        try:
            info = pipeline.run(
                payments_api(base_url=base_url, token=token, **source_options),
                loader_file_format=destinations.file_format(pipeline, items="objects"),
            )
        except PipelineStepFailed as exc:
            # A failed extract leaves no load package: nothing reaches the lake and the
            # cursors stay where the last good run left them. A load that fails later is
            # kept by dlt and finished by the next run; staging reads committed loads only.
            raise PlatformError(f"payments pipeline failed at step {exc.step}: {lake.root_cause(exc)}") from exc
        info.raise_on_failed_jobs()
        rate_limited = server.served.count(429) if server else None
    seconds = time.monotonic() - started
    rows = lake.loaded_rows(pipeline)
    total = sum(rows.values())
    log.info("payments: %s rows in %.1fs", f"{total:,}", seconds)
    return {
        "rows": rows,
        "seconds": seconds,
        "records_per_s": total / max(seconds, 1e-9),
        "load_ids": list(info.loads_ids),
        "rate_limited_requests": rate_limited,
        "destination": destinations.described(pipeline, settings),
    }


def _api(settings: Settings, stack: ExitStack) -> tuple[str, str, local_api.PaymentsServer | None]:
    """(base URL, token, server): the configured API, or the simulator's started for this run."""
    url = os.environ.get(URL_ENV)
    token = os.environ.get(TOKEN_ENV)
    if url:
        if not token:
            raise PlatformError(f"{URL_ENV} is set but {TOKEN_ENV} is not: set the API's token")
        return url, token, None
    store = provider.store_path(settings.sources_dir)
    if not store.exists():
        raise PlatformError(f"no payments data at {store}: run `ingestion sources init` first")
    try:
        rate_limit = float(os.environ.get(RATE_LIMIT_ENV) or 0)
    except ValueError as exc:
        raise PlatformError(f"{RATE_LIMIT_ENV} must be a number from 0 to 1") from exc
    faults = local_api.Faults(rate_limit=rate_limit)
    server = stack.enter_context(local_api.running(store, local_api.LOCAL_TOKEN, faults))
    return server.url, token or local_api.LOCAL_TOKEN, server
