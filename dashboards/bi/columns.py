"""The exposures behind QuickSight and Tableau, and their marts' columns, read from dbt's manifest.

The marts' contracts are enforced, so every column declares a ``data_type`` in YAML and
the manifest carries it; nothing here connects to the warehouse. Each column gets a
neutral *kind* (the types both tools know) and a *role*: numbers are measures unless
they are keys (``<entity>_id``/``<entity>_key``, the project's naming convention).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import PlatformError

BI_TOOLS = ("quicksight", "tableau")

# dbt data_type (lower case, as written in the marts' YAML for any target) -> kind.
_KINDS = (
    (r"string|text|(var)?char(acter)?( varying)?(\(\d+\))?", "string"),
    (r"(big|small|tiny|huge)?int(eger)?[248]?", "integer"),
    (r"(decimal|numeric)(\(\s*\d+\s*(,\s*\d+\s*)?\))?", "decimal"),
    (r"double( precision)?|float[48]?|real", "float"),
    (r"date", "date"),
    (r"timestamp(tz|\(\d\))?( with(out)? time zone)?|datetime", "datetime"),
    (r"bool(ean)?", "boolean"),
)
NUMERIC_KINDS = ("integer", "decimal", "float")


def column_kind(data_type: str) -> str:
    text = data_type.strip().lower()
    for pattern, kind in _KINDS:
        if re.fullmatch(pattern, text):
            return kind
    raise ValueError(f"no BI type for data_type {data_type!r}")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str

    @property
    def kind(self) -> str:
        return column_kind(self.data_type)

    @property
    def is_key(self) -> bool:
        return self.name.endswith(("_id", "_key"))

    @property
    def role(self) -> str:
        return "measure" if self.kind in NUMERIC_KINDS and not self.is_key else "dimension"


@dataclass(frozen=True)
class Mart:
    name: str  # the relation's name in the warehouse (dbt's alias)
    description: str
    columns: tuple[Column, ...]

    @property
    def measures(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.role == "measure")

    @property
    def dates(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind in ("date", "datetime"))


@dataclass(frozen=True)
class Exposure:
    name: str
    label: str
    tool: str
    area: str
    description: str
    url: str
    marts: tuple[Mart, ...]

    @property
    def area_slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.area.lower()).strip("-")


def _mart(node: dict) -> Mart:
    columns = []
    for column in node["columns"].values():
        if not column.get("data_type"):
            raise PlatformError(
                f"{node['original_file_path']}: column {column['name']} of {node['name']} has no data_type; "
                "the BI definitions need one for every column (enforce the model's contract)"
            )
        try:
            column_kind(column["data_type"])
        except ValueError as exc:
            raise PlatformError(f"{node['name']}.{column['name']}: {exc}") from None
        columns.append(Column(column["name"], column["data_type"], column.get("description") or ""))
    if not columns:
        raise PlatformError(f"{node['name']} documents no columns, so it cannot feed a BI data set")
    return Mart(node["alias"] or node["name"], node.get("description") or "", tuple(columns))


def load_exposures(manifest_path: Path, tools: tuple[str, ...] = BI_TOOLS) -> list[Exposure]:
    """The exposures whose ``meta.tool`` is one of ``tools``, with their marts, in name order."""
    if not manifest_path.exists():
        raise PlatformError(f"no dbt manifest at {manifest_path}: run `dbt parse` first")
    manifest = json.loads(manifest_path.read_text())
    exposures = []
    for exposure in sorted(manifest["exposures"].values(), key=lambda e: e["name"]):
        meta = exposure.get("meta") or exposure.get("config", {}).get("meta") or {}
        if meta.get("tool") not in tools:
            continue
        models = [manifest["nodes"][n] for n in exposure["depends_on"]["nodes"] if n.startswith("model.")]
        exposures.append(
            Exposure(
                name=exposure["name"],
                label=exposure.get("label") or exposure["name"],
                tool=meta["tool"],
                area=meta.get("area") or exposure["name"],
                description=" ".join((exposure.get("description") or "").split()),
                url=exposure.get("url") or "",
                marts=tuple(_mart(node) for node in models),
            )
        )
    return exposures
