"""Payments API ingestion records/s (with and without 429s) and partner-file rows/s."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from ingestion.pipelines.partners import pipeline as partners_pipeline
from ingestion.pipelines.payments import pipeline as payments_pipeline
from ingestion.settings import Settings, load_settings
from simulator import partners, payments, payments_api, shop
from simulator.context import SimContext

# One request in ten answered 429 with Retry-After: 1, a busy but healthy API.
RATE_LIMIT = 0.1
RETRY_AFTER_S = 1
# Stripe's largest page, beside the local API's 1,000 (the pipeline's default).
STRIPE_PAGE_SIZE = 100


def run(sf: float, workdir: Path) -> dict:
    root = workdir / f"payments-sf{sf:g}"
    settings = load_settings({"DATA_DIR": str(root / "sources"), "SF": str(sf)})
    ctx = SimContext(settings)
    shop.init(ctx, shop.DEFAULT_CUTOFF)
    started = time.perf_counter()
    payments.init(ctx)
    simulate_payments = time.perf_counter() - started
    started = time.perf_counter()
    partners.init(ctx)
    simulate_partners = time.perf_counter() - started
    store = payments.store_path(ctx)

    large = _served_run(store, _fresh_lake(settings, root / "large-pages"), None, None)
    small = _served_run(store, _fresh_lake(settings, root / "small-pages"), None, STRIPE_PAGE_SIZE)
    faults = payments_api.Faults(rate_limit=RATE_LIMIT, retry_after=RETRY_AFTER_S)
    limited = _served_run(store, _fresh_lake(settings, root / "limited"), faults, STRIPE_PAGE_SIZE)
    feeds = partners_pipeline.run(settings)
    return {
        "sf": sf,
        "api_records": large["records"],
        "simulate_payments_s": simulate_payments,
        "api_ingest_s": large["seconds"],
        "api_records_per_s": large["records"] / large["seconds"],
        "api_100_per_page_records_per_s": small["records"] / small["seconds"],
        "api_rate_limited_ingest_s": limited["seconds"],
        "api_rate_limited_records_per_s": limited["records"] / limited["seconds"],
        "api_429_answers": limited["throttled"],
        "partner_files": feeds["files"],
        "partner_rows": feeds["data_rows"],
        "simulate_partners_s": simulate_partners,
        "partner_ingest_s": feeds["seconds"],
        "partner_rows_per_s": feeds["rows_per_s"],
    }


def _fresh_lake(settings: Settings, data_dir: Path) -> Settings:
    return replace(settings, data_dir=data_dir, lake_url=str(data_dir / "lake"))


def _served_run(store: Path, settings: Settings, faults: payments_api.Faults | None, page_size: int | None) -> dict:
    """One full load of the store, served on a free port, into the settings' lake."""
    options = {"page_size": page_size} if page_size else {}
    with payments_api.running(store, faults=faults) as server:
        started = time.perf_counter()
        summary = payments_pipeline.run(settings, base_url=server.url, token=payments_api.LOCAL_TOKEN, **options)
        seconds = time.perf_counter() - started
        throttled = server.served.count(429)
    return {"records": sum(summary["rows"].values()), "seconds": seconds, "throttled": throttled}
