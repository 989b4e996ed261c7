"""The semantic layer's metrics, as SQL for the warehouse: MetricFlow plans, DuckDB runs.

The metrics live in the dbt project (models/marts/_semantic_models.yml); dbt writes them
to ``semantic_manifest.json`` when it parses. MetricFlow turns a request ("revenue and
orders, by month") into SQL. Running that SQL through MetricFlow's own path would open
the warehouse with the dbt adapter, which takes DuckDB's write lock; the dashboard must
only read. So MetricFlow is asked for the SQL alone (``explain``), with a client that
knows the DuckDB dialect and connects to nothing, and the caller runs the SQL on its
read-only connection. ``mf query`` (``make metrics``) runs the same definitions through
dbt's adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from ingestion.errors import PlatformError

# The dashboard's headline numbers, in the order it shows them.
HEADLINE_METRICS = (
    "revenue",
    "net_revenue",
    "orders",
    "average_order_value",
    "conversion_rate",
    "refund_rate",
    "cash_collected",
)


class _DialectOnlyClient:
    """Just enough of MetricFlow's SqlClient to render DuckDB SQL; it never connects."""

    def __init__(self):
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self.sql_engine_type = SqlEngine.DUCKDB
        self.sql_plan_renderer = DuckDbSqlPlanRenderer()

    def _refuse(self, *_args, **_kwargs):
        raise NotImplementedError("this client only renders SQL; run it on your own connection")

    query = execute = dry_run = _refuse

    def close(self) -> None:
        pass

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


@cache
def _engine(semantic_manifest: Path, modified: float):
    """A MetricFlow engine for one version of the semantic manifest (``modified`` keys the cache)."""
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=semantic_manifest.read_text())
    return MetricFlowEngine(semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=_DialectOnlyClient())


def metrics_sql(semantic_manifest: Path, metrics: Sequence[str], group_by: Sequence[str] = ()) -> str:
    """The SQL MetricFlow writes for ``metrics`` grouped by ``group_by`` (e.g. ``metric_time__month``)."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    if not semantic_manifest.exists():
        raise PlatformError(
            f"no semantic manifest at {semantic_manifest}: run `dbt parse` (make build does) to write the metrics"
        )
    engine = _engine(semantic_manifest, semantic_manifest.stat().st_mtime)
    request = MetricFlowQueryRequest.create(
        metric_names=list(metrics), group_by_names=list(group_by), order_by_names=list(group_by)
    )
    return engine.explain(request).sql_statement.sql


def headline(con, semantic_manifest: Path) -> dict[str, float | None]:
    """The headline metrics over all time, computed on ``con`` (a DuckDB connection, read-only is enough)."""
    sql = metrics_sql(semantic_manifest, HEADLINE_METRICS)
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    values = dict(zip(names, row, strict=True))
    return {name: (float(values[name]) if values[name] is not None else None) for name in HEADLINE_METRICS}
