"""DuckDB connections with extensions loaded from their PyPI wheels, never the network."""

from __future__ import annotations

import glob
import importlib.util
from pathlib import Path

import duckdb

from ingestion.errors import PlatformError


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


def connect(database: str = ":memory:", *extensions: str, **kwargs) -> duckdb.DuckDBPyConnection:
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    config.update(kwargs.pop("config", {}))
    con = duckdb.connect(database, config=config, **kwargs)
    return load_extensions(con, *extensions)
