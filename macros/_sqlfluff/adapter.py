"""sqlfluff stand-in for dbt's ``adapter`` object (dbt never reads this folder).

``adapter.dispatch`` returns what the dispatched macro renders on DuckDB where that SQL
reaches a model's body (``type_double()``, ``not_materialized()``,
``complete_partitions(...)``); inside ``config(...)``, which the templater drops, any
string will do.
"""


def _complete_partitions(rows_cte, unique_key, partition_column, cte_name):
    return f"{cte_name} as (\n    select * from {rows_cte}\n)"


DUCKDB_SQL = {
    "type_double": lambda *args, **kwargs: "double",
    "not_materialized": lambda *args, **kwargs: "not materialized",
    "complete_partitions": _complete_partitions,
}


def dispatch(macro_name, macro_namespace=None):
    return DUCKDB_SQL.get(macro_name, lambda *args, **kwargs: "")
