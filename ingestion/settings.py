"""Settings from environment variables, with local defaults.

Every component reads its paths and targets from here, so the same code points at a
local folder and DuckDB on a laptop and at S3, Redshift or Athena in production.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import PlatformError

SF_MIN = 0.01
SF_MAX = 100.0
DBT_TARGETS = ("dev", "ci", "pg", "spark", "redshift", "athena")
LAKE_ZONES = ("landing", "raw", "processed", "quarantine")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    lake_url: str
    sf: float
    seed: int
    dbt_target: str
    shop_db_url: str

    @property
    def sources_dir(self) -> Path:
        """Where the simulated source systems keep their local state."""
        return self.data_dir / "sources"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def pipelines_dir(self) -> Path:
        """dlt's working folder (load packages, local state), kept out of the user's home."""
        return self.data_dir / "dlt"

    @property
    def lake_is_local(self) -> bool:
        return "://" not in self.lake_url or self.lake_url.startswith("file://")

    def zone_url(self, zone: str, *parts: str) -> str:
        """URL (or local path) of a lake zone, e.g. ``zone_url("raw", "shop")``."""
        if zone not in LAKE_ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {LAKE_ZONES}")
        return "/".join([self.lake_url.rstrip("/"), zone, *parts])


def validate_sf(sf: float) -> float:
    if not SF_MIN <= sf <= SF_MAX:
        raise PlatformError(f"SF={sf:g} is out of range: choose a scale factor from {SF_MIN:g} to {SF_MAX:g}")
    return sf


def validate_target(target: str) -> str:
    if target not in DBT_TARGETS:
        raise PlatformError(f"unknown dbt target {target!r}: choose one of {', '.join(DBT_TARGETS)}")
    return target


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR") or "data").absolute()
    lake_url = env.get("LAKE_URL") or str(data_dir / "lake")
    if "://" not in lake_url:
        lake_url = str(Path(lake_url).absolute())
    try:
        sf = float(env.get("SF") or 0.01)
    except ValueError as exc:
        raise PlatformError(f"SF={env.get('SF')!r} is not a number") from exc
    try:
        seed = int(env.get("SEED") or 42)
    except ValueError as exc:
        raise PlatformError(f"SEED={env.get('SEED')!r} is not an integer") from exc
    shop_db_url = env.get("SHOP_DB_URL") or f"sqlite:///{data_dir / 'sources' / 'shop.db'}"
    return Settings(
        data_dir=data_dir,
        lake_url=lake_url,
        sf=validate_sf(sf),
        seed=seed,
        dbt_target=validate_target(env.get("DBT_TARGET") or "dev"),
        shop_db_url=shop_db_url,
    )
