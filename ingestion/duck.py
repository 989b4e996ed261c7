"""DuckDB connections with extensions loaded from their PyPI wheels, never the network.

Every connection gets the memory limit and spill folder of the settings
(``DUCKDB_MEMORY_LIMIT``, ``DUCKDB_TEMP_DIRECTORY``), so large work spills to disk instead
of growing without bound; ``out_of_memory`` turns DuckDB's failure at the limit into one
line naming the setting to raise.
"""

from __future__ import annotations

import glob
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ingestion.errors import PlatformError
from ingestion.settings import Settings, load_settings


def extension_path(name: str) -> str:
    """Path of ``<name>.duckdb_extension`` inside the ``duckdb-extension-<name>`` wheel."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise PlatformError(f"DuckDB extension {name!r} is not installed (pip package {package})")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = glob.glob(str(root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"))
    if not found:
        raise PlatformError(f"{package} does not match duckdb {duckdb.__version__}; pin them together")
    return found[0]


def load_extensions(con: duckdb.DuckDBPyConnection, *names: str) -> duckdb.DuckDBPyConnection:
    for name in names:
        con.execute(f"LOAD '{extension_path(name)}'")
    return con


def resources(settings: Settings) -> dict[str, str]:
    """The DuckDB options every connection of the platform gets from the settings."""
    return {
        "memory_limit": settings.duckdb_memory_limit,
        "temp_directory": str(settings.duckdb_temp_directory),
    }


def connect(
    database: str = ":memory:", *extensions: str, settings: Settings | None = None, **kwargs
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection under the settings' memory limit (``settings``: else the environment's)."""
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    config.update(resources(settings or load_settings()))
    config.update(kwargs.pop("config", {}))
    con = duckdb.connect(database, config=config, **kwargs)
    return load_extensions(con, *extensions)


@contextmanager
def out_of_memory(settings: Settings | None = None) -> Iterator[None]:
    """Re-raise DuckDB's out-of-memory error as one line naming the setting to raise."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        settings = settings or load_settings()
        raise PlatformError(
            f"DuckDB ran out of memory at DUCKDB_MEMORY_LIMIT={settings.duckdb_memory_limit} "
            f"({str(exc).strip().splitlines()[0]}): raise DUCKDB_MEMORY_LIMIT, or free disk under "
            f"DUCKDB_TEMP_DIRECTORY={settings.duckdb_temp_directory} where it spills"
        ) from exc


def literal(text: str) -> str:
    """``text`` escaped to stand between single quotes in DuckDB SQL."""
    return text.replace("'", "''")
