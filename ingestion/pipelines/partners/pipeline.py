"""Run the ``partners`` pipeline: landing CSVs → raw zone, rejects → quarantine (lake or warehouse)."""

from __future__ import annotations

import logging
import time

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.sources.filesystem import filesystem

from ingestion.pipelines import destinations, lake, recovery
from ingestion.pipelines.partners import partner_feeds, partner_rejects
from ingestion.pipelines.partners.helpers import read_new_files
from ingestion.pipelines.partners.settings import (
    DATASET_NAME,
    FILE_GLOB,
    PIPELINE_NAME,
    QUARANTINE_PIPELINE_NAME,
)
from ingestion.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, progress: str = "log") -> dict:
    """Load partner files not loaded before; quarantine the rows that break the contract.

    Every file of the batch is read and checked before anything is written, so a file
    with a wrong delimiter or encoding stops the run with nothing loaded. Rejects are
    written first: if the main load then fails, the next run loads the same files and
    the quarantine skips the rejects it already holds.
    """
    lake.require_load_ids()
    started = time.monotonic()
    pipeline = _pipeline(settings, PIPELINE_NAME, destinations.for_pipeline(DATASET_NAME, settings), progress)
    # A killed run's files are in the state already: load its package before reading it.
    if (settings.pipelines_dir / QUARANTINE_PIPELINE_NAME).exists():
        quarantine_to = destinations.for_pipeline(DATASET_NAME, settings, zone="quarantine")
        recovery.finish_interrupted(_pipeline(settings, QUARANTINE_PIPELINE_NAME, quarantine_to, progress))
    recovery.finish_interrupted(pipeline)
    loaded = dict(_state_files(pipeline))
    listing = filesystem(bucket_url=settings.zone_url("landing", "partners"), file_glob=FILE_GLOB)
    batch = read_new_files(list(listing), loaded, set(loaded.values()))
    rows = {"partner_inventory": 0, "partner_files": 0}
    quarantined = 0
    if batch:
        if any(parsed.rejects for parsed in batch):
            quarantine_to = destinations.for_pipeline(DATASET_NAME, settings, zone="quarantine")
            quarantine = _pipeline(settings, QUARANTINE_PIPELINE_NAME, quarantine_to, progress)
            _run(quarantine, partner_rejects(batch))
            quarantined = lake.loaded_rows(quarantine).get("rejected_rows", 0)
        _run(pipeline, partner_feeds(batch))
        rows.update(lake.loaded_rows(pipeline))
    seconds = time.monotonic() - started
    data_rows = sum(parsed.data_rows for parsed in batch)
    log.info(
        "partners: %d files, %s rows (%s loaded, %s quarantined) in %.1fs",
        len(batch),
        f"{data_rows:,}",
        f"{rows['partner_inventory']:,}",
        f"{quarantined:,}",
        seconds,
    )
    return {
        "rows": rows,
        "quarantined": {"rejected_rows": quarantined},
        "files": len(batch),
        "duplicate_files": sum(parsed.status == "duplicate" for parsed in batch),
        "data_rows": data_rows,
        "seconds": seconds,
        "rows_per_s": data_rows / max(seconds, 1e-9),
        "destination": destinations.described(pipeline, settings),
    }


def _pipeline(settings: Settings, name: str, to: destinations.Destination, progress: str) -> dlt.Pipeline:
    """Raw zone and quarantine in the lake; ``raw_partners``/``quarantine_partners`` in a warehouse."""
    return dlt.pipeline(
        **to.pipeline_kwargs(name),
        pipelines_dir=str(settings.pipelines_dir),
        progress=progress,
    )


def _state_files(pipeline: dlt.Pipeline) -> dict[str, str]:
    """Files loaded so far, from the destination's state when the local copy is gone."""
    try:
        pipeline.sync_destination()
    except Exception as exc:  # a lake that was never written has no state to restore
        log.debug("partners: no state in the destination yet (%s)", exc)
    return pipeline.state.get("sources", {}).get(DATASET_NAME, {}).get("files", {})


def _run(pipeline: dlt.Pipeline, source) -> None:
    try:
        info = pipeline.run(source, loader_file_format=destinations.file_format(pipeline, items="objects"))
    except PipelineStepFailed as exc:
        raise lake.step_failed(exc) from exc
    info.raise_on_failed_jobs()
