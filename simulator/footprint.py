"""How much disk a scale factor needs, checked before ``simulate init`` writes anything.

The figures are measured, not derived: ``du -sb`` of each part of ``DATA_DIR`` after
``marketplace simulate init`` and one ``make run`` on the dev target, at SF 0.01, 0.1 and 1
(see docs/benchmarks.md, "Disk"). Every part grows linearly with SF; the fixed part is
dbt's and dlt's own state. A part that lives elsewhere (the lake on S3, the shop on
Postgres, the warehouse on Redshift) is not counted. DuckDB's spill files, held only while
dbt builds, are a part of their own (measured at SF 10: spill grows faster than the data
below it, because at SF 1 most of a build still fits in memory). The margin covers the rest
of what a run holds only while it runs: dlt's extracted and normalized load packages.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings

MIB = 1024**2
GIB = 1024**3
# bytes per unit of SF, by part of DATA_DIR; measured at SF 1 on the dev target (4.45 GB in
# all: shop and payments databases 1.75 GB, TPC-H cache 0.31, lake 0.88, warehouse 1.14,
# dlt 0.36) and checked at SF 0.1 (0.47 GB) and 0.01 (75 MB, mostly the fixed part)
PER_SF = {
    "shop database": 1.65 * GIB,
    "TPC-H cache": 0.30 * GIB,
    "lake": 0.85 * GIB,
    "warehouse": 1.10 * GIB,
    "dlt working folder": 0.35 * GIB,
    # held only while `dbt build` runs, in DUCKDB_TEMP_DIRECTORY, under the default 4 GB
    # limit: 34 GB at its peak in the first SF 10 build, 38.7 GB (36.0 GiB) in the second;
    # that run took at most 73.5 GiB of its disk, all parts together, against the 78.6 GiB
    # this estimates (docs/benchmarks.md, "How cost grows")
    "DuckDB spill": 3.6 * GIB,
}
SPILL = "DuckDB spill"
FIXED = 60 * MIB
MARGIN = 1.5


@dataclass(frozen=True)
class Footprint:
    parts: dict[str, int]

    @property
    def needed(self) -> int:
        """What is held after the run with its margin, or while dbt spills, whichever is more."""
        spill = self.parts.get(SPILL, 0)
        held = sum(size for part, size in self.parts.items() if part != SPILL)
        return int(max(held * MARGIN, held + spill)) + FIXED


def expected(settings: Settings) -> Footprint:
    """The local bytes a platform at ``settings.sf`` will hold after its first run."""
    from simulator.context import SimContext  # the simulator imports this module
    from simulator.shop import universe_path

    cache = settings.tpch_cache_dir or settings.sources_dir
    local = {
        "shop database": settings.shop_db_url.startswith("sqlite"),
        # a cache shared from outside DATA_DIR is not counted; a cached SF is not generated again
        "TPC-H cache": cache.resolve().is_relative_to(settings.data_dir.resolve())
        and not universe_path(SimContext(settings)).exists(),
        "lake": settings.lake_is_local,
        "warehouse": settings.dbt_target in ("dev", "ci"),
        "dlt working folder": True,
        SPILL: settings.dbt_target in ("dev", "ci")
        and settings.duckdb_temp_directory.resolve().is_relative_to(settings.data_dir.resolve()),
    }
    return Footprint({part: int(per_sf * settings.sf) for part, per_sf in PER_SF.items() if local[part]})


def free_bytes(path: Path) -> int:
    """Free space on the file system that holds ``path`` (or its nearest existing parent)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free


def folder_bytes(path: Path, glob: str = "*") -> int:
    return sum(f.stat().st_size for f in path.rglob(glob) if f.is_file())


def rebuilt_bytes(settings: Settings) -> int:
    """What ``simulate init`` deletes and writes again: the sources folder, less TPC-H caches."""
    return folder_bytes(settings.sources_dir) - folder_bytes(settings.sources_dir, "tpch_*")


def require_disk_space(settings: Settings) -> Footprint:
    """Stop before writing anything when ``DATA_DIR`` cannot hold the scale factor."""
    footprint = expected(settings)
    available = free_bytes(settings.data_dir) + rebuilt_bytes(settings)
    if footprint.needed > available:
        raise PlatformError(
            f"SF {settings.sf:g} needs about {_size(footprint.needed)} in DATA_DIR={settings.data_dir} "
            f"but only {_size(available)} is free: free space, choose a smaller SF, or point DATA_DIR "
            "(or LAKE_URL, TPCH_CACHE_DIR) at a larger disk"
        )
    return footprint


def _size(n: int) -> str:
    return f"{n / GIB:,.1f} GiB" if n >= GIB else f"{n / MIB:,.0f} MiB"
