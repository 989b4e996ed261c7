"""The demo wiring: run the platform's pipelines against the simulated company when no
real source is configured. Only the CLI and the tests use it; the pipelines never do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ingestion import pipelines
from ingestion.errors import PlatformError
from ingestion.pipelines.payments import pipeline as payments_pipeline
from ingestion.settings import Settings


@contextmanager
def payments_api(settings: Settings) -> Iterator[tuple[str, str, object | None]]:
    """(base URL, token, local server or None) for one payments run.

    The API configured through dlt (``SOURCES__PAYMENTS__BASE_URL`` and ``__TOKEN``) if
    there is one; otherwise the simulator's API, served on a free port for the run, with
    ``SOURCES__PAYMENTS__TOKEN`` (or its test token) and ``PAYMENTS_API_RATE_LIMIT``.
    """
    url, token = payments_pipeline.configured_api()
    if url:
        yield url, token, None
        return
    from simulator import payments as provider
    from simulator import payments_api as local_api

    store = provider.store_path(settings.sources_dir)
    if not store.exists():
        raise PlatformError(
            f"no payments API configured (SOURCES__PAYMENTS__BASE_URL) and no simulated one at {store}: "
            "set the variable, or run `marketplace simulate init` first"
        )
    faults = local_api.Faults(rate_limit=settings.payments_api_rate_limit)
    with local_api.running(store, local_api.LOCAL_TOKEN, faults) as server:
        yield server.url, token or local_api.LOCAL_TOKEN, server


def run_payments(settings: Settings, **options) -> dict:
    """The payments pipeline against the configured API or the simulated one."""
    with payments_api(settings) as (url, token, server):
        summary = payments_pipeline.run(settings, base_url=url, token=token, **options)
        summary["rate_limited_requests"] = server.served.count(429) if server else None
    return summary


def run_pipeline(name: str, settings: Settings) -> dict:
    if name == "payments":
        return run_payments(settings)
    return pipelines.get(name).run(settings)
