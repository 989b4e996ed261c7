"""sqlfluff stand-in for dbt's ``adapter`` object (dbt never reads this folder).

``adapter.dispatch`` returns what the dispatched macro renders on DuckDB where that SQL
reaches a model's body (``type_double()``); inside ``config(...)``, which the templater
drops, any string will do.
"""

DUCKDB_SQL = {"type_double": "double", "not_materialized": "not materialized"}


def dispatch(macro_name, macro_namespace=None):
    return lambda *args, **kwargs: DUCKDB_SQL.get(macro_name, "")
