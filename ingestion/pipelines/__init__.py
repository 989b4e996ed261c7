"""dlt pipelines, one package per source, each landing in the lake's raw zone or a warehouse.

``PIPELINES`` maps a pipeline name to the module that runs it; every module has
``run(settings) -> dict`` returning what it loaded (row counts per table at least).
``ingestion ingest all`` runs them in this order.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PIPELINES: tuple[str, ...] = ("shop", "payments", "partners", "clickstream")


def get(name: str) -> ModuleType:
    if name not in PIPELINES:
        raise KeyError(name)
    return importlib.import_module(f"ingestion.pipelines.{name}.pipeline")
