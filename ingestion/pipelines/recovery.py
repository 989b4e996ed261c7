"""Finishing what a killed run left in a pipeline's working folder, before the next run.

dlt keeps a run's data as a load package in the pipeline's working folder until the
destination has it; a run killed after the extraction leaves its package there. dlt's
``run()`` then loads that package and *skips* the new data it was given, so a pipeline
whose cursor or file list already moved on (both are saved when the extraction ends)
would leave the killed run's rows out until some later run. ``finish_interrupted`` loads
the package first, so the run that follows extracts only what is new.

It also repairs the one state dlt cannot recover from by itself: normalize commits a
package in two steps (rename ``load/new/<id>`` to ``load/normalized/<id>``, then delete
``normalize/extracted/<id>``), and a kill between them leaves the package in both
places. dlt would normalize the extracted copy again and fail on every later run
(``Directory not empty``) at the rename. The normalized copy is complete, so the
extracted leftover is removed.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.pipelines import lake

log = logging.getLogger(__name__)


def drop_half_committed(pipeline: dlt.Pipeline) -> list[str]:
    """Remove the copies of already committed packages left in the folders before; their load ids.

    The extracted copy a kill left mid-commit, and the ``load/new`` copy a later run made
    of it before failing on the rename.
    """
    root = Path(pipeline.working_dir)
    dropped = []
    for leftover in sorted([*root.glob("normalize/extracted/*"), *root.glob("load/new/*")]):
        if any((root / "load" / state / leftover.name).exists() for state in ("normalized", "loaded")):
            log.warning("%s: removing %s, a copy of a committed package", pipeline.pipeline_name, leftover)
            shutil.rmtree(leftover)
            dropped.append(leftover.name)
    return dropped


def finish_interrupted(pipeline: dlt.Pipeline) -> bool:
    """Load the package a killed run left behind, if any; whether there was one."""
    drop_half_committed(pipeline)
    if not pipeline.has_pending_data:
        return False
    log.warning("%s: finishing the load package of an interrupted run first", pipeline.pipeline_name)
    try:
        pipeline.normalize()
        pipeline.load().raise_on_failed_jobs()
    except PipelineStepFailed as exc:
        raise lake.step_failed(exc) from exc
    return True
