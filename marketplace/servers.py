"""What the local servers (docs site, dashboard) check before they start, in one line each."""

from __future__ import annotations

import socket
from pathlib import Path

from ingestion.errors import PlatformError

HOST = "127.0.0.1"


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind (http.server, tornado): connections of a server stopped a
        # moment ago, left in TIME_WAIT, do not hold the port; a listening socket does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def require_free_port(port: int, setting: str, what: str) -> None:
    """Fail in one line naming the port and the setting that moves it."""
    if port_in_use(port):
        raise PlatformError(
            f"port {port} on {HOST} is already in use, so the {what} cannot start there: "
            f"stop what holds it, or choose another port with {setting}=<port>"
        )


def require_warehouse(warehouse: Path, table: str = "fct_orders") -> None:
    """Fail in one line, naming what to run first, unless the DuckDB warehouse holds the marts."""
    import duckdb

    hint = "run `make demo` first (or `make build` after `make sources ingest process`)"
    if not warehouse.exists():
        raise PlatformError(f"no warehouse at {warehouse}: nothing has been built yet; {hint}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        query = "select count(*) from information_schema.tables where table_name = ?"
        found = con.execute(query, [table]).fetchone()[0]
    if not found:
        raise PlatformError(f"the warehouse {warehouse} has no marts yet ({table} is missing); {hint}")
