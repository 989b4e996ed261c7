"""dbt-duckdb plugin: hands ``PII_SALT`` to each of dbt's DuckDB cursors as a session variable.

The PII macros (macros/pii/) read the salt with ``getvariable('pii_salt')``, so the value
never enters a compiled model, dbt's logs or its artifacts: it goes from the environment
to the connection here, through a prepared parameter. DuckDB keeps variables per
connection and a cursor is a new connection, hence ``configure_cursor``. Unset, nothing is
set and the SQL falls back as macros/pii/pii_salt.sql says.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError
from duckdb import DuckDBPyConnection

from ingestion.errors import PlatformError
from ingestion.settings import load_settings

# The name the macros read; a DuckDB variable, not a setting, so no extension is needed.
VARIABLE = "pii_salt"


class Plugin(BasePlugin):
    def initialize(self, plugin_config) -> None:
        try:
            self._salt = load_settings().pii_salt
        except PlatformError as exc:  # dbt prints its own errors in one line, others with a traceback
            raise DbtRuntimeError(str(exc)) from None

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        if self._salt:
            cursor.execute(f"set variable {VARIABLE} = $salt", {"salt": self._salt})
