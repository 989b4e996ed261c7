"""The QuickSight and Tableau definitions behind the exposures, generated from dbt's manifest.

``export`` writes, under one folder::

    quicksight/data-source.json           aws quicksight create-data-source --cli-input-json file://...
    quicksight/data-sets/<mart>.json      aws quicksight create-data-set ...   (one per mart)
    quicksight/analyses/<exposure>.json   aws quicksight create-analysis ...  (one per QuickSight exposure)
    tableau/<area>.tds                    a Tableau data source per exposure's mart area

Each QuickSight request is checked against botocore's service model before it is written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dashboards.bi import quicksight, tableau
from dashboards.bi.columns import Exposure, load_exposures
from dashboards.bi.warehouse import Warehouse

__all__ = ["Warehouse", "export", "load_exposures"]


class InvalidDefinition(ValueError):
    """A generated QuickSight request that the service model rejects: a bug here, not a user error."""


def _write_request(path: Path, operation: str, params: dict) -> Path:
    errors = quicksight.validate(operation, params)
    if errors:
        raise InvalidDefinition(f"{operation} request for {path.name} is invalid: " + "; ".join(errors))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(params, indent=2) + "\n")
    return path


def export(exposures: list[Exposure], warehouse: Warehouse, out_dir: Path) -> list[Path]:
    """Write every definition for ``exposures`` under ``out_dir``; return the files written.

    The ``quicksight/`` and ``tableau/`` folders are replaced, so a mart or exposure that
    was removed from the project leaves no stale definition behind.
    """
    for folder in ("quicksight", "tableau"):
        shutil.rmtree(out_dir / folder, ignore_errors=True)
    written = []
    sights = [e for e in exposures if e.tool == "quicksight"]
    if sights:
        written.append(
            _write_request(
                out_dir / "quicksight" / "data-source.json", "CreateDataSource", quicksight.data_source(warehouse)
            )
        )
        marts = {m.name: m for e in sights for m in e.marts}
        for name, mart in sorted(marts.items()):
            path = out_dir / "quicksight" / "data-sets" / f"{name}.json"
            written.append(_write_request(path, "CreateDataSet", quicksight.data_set(mart, warehouse)))
        for exposure in sights:
            path = out_dir / "quicksight" / "analyses" / f"{exposure.name}.json"
            written.append(_write_request(path, "CreateAnalysis", quicksight.analysis(exposure, warehouse)))
    for exposure in exposures:
        path = out_dir / "tableau" / f"{exposure.area_slug}.tds"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tableau.data_source(exposure, warehouse))
        written.append(path)
    return written
