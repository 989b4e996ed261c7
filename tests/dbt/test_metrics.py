"""The semantic layer: MetricFlow's metrics equal the marts' own sums, on the session's build.

The metrics (models/marts/_semantic_models.yml) are computed twice: through the SQL
MetricFlow plans for the dashboard (dashboards.metrics), and through `mf query`, the
analyst's command line, on dbt's DuckDB adapter. Both are compared with sums the test
writes itself over other marts than the ones the metrics read where it can.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboards.metrics import HEADLINE_METRICS, headline, metrics_sql
from tests.conftest import BIN, ROOT, run

pytestmark = pytest.mark.e2e


def scalar(con, sql: str) -> float:
    return float(con.execute(sql).fetchone()[0])


@pytest.fixture(scope="module")
def warehouse(built_platform):
    with duckdb.connect(str(Path(built_platform["DATA_DIR"]) / "warehouse.duckdb"), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def semantic_manifest(built_platform) -> Path:
    return Path(built_platform["DBT_TARGET_PATH"]) / "semantic_manifest.json"


def test_mf_query_on_the_dbt_adapter(built_platform, tmp_path):
    """`mf query` (dbt-metricflow) on DuckDB through dbt's adapter.

    mf reads the semantic manifest from <project>/target, so the test gives it a project
    whose target is the build's. It runs first: dbt's adapter opens the warehouse for
    writing, which DuckDB refuses while another process or connection reads it.
    """
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "data_tests", "analyses"):
        (project / name).symlink_to(ROOT / name)
    (project / "target").symlink_to(built_platform["DBT_TARGET_PATH"])
    out = tmp_path / "orders_by_year.csv"
    env = dict(built_platform, DBT_PROJECT_DIR=str(project))
    run([str(BIN / "mf"), "query", "--metrics", "orders", "--group-by", "metric_time__year", "--csv", str(out)], env)
    header, *body = out.read_text().splitlines()
    assert header.split(",") == ["metric_time__year", "orders"]
    got = {int(line[:4]): int(float(line.split(",")[1])) for line in body}
    with duckdb.connect(str(Path(built_platform["DATA_DIR"]) / "warehouse.duckdb"), read_only=True) as con:
        expected = dict(con.execute("select year(order_date), count(*) from fct_orders group by 1").fetchall())
    assert got == expected


def test_headline_metrics_equal_the_marts(warehouse, semantic_manifest):
    got = headline(warehouse, semantic_manifest)
    orders = scalar(warehouse, "select count(*) from fct_orders")
    revenue = scalar(warehouse, "select sum(gross_revenue) from fct_order_lines")
    expected = {
        "revenue": revenue,
        "net_revenue": scalar(warehouse, "select sum(net_revenue) from fct_order_lines"),
        "orders": orders,
        "average_order_value": revenue / orders,
        "conversion_rate": scalar(warehouse, "select avg(case when has_order then 1.0 else 0 end) from fct_sessions"),
        "refund_rate": scalar(
            warehouse, "select sum(refunded_amount) / sum(charged_amount) from fct_payment_reconciliation"
        ),
        "cash_collected": scalar(warehouse, "select sum(net_paid_amount) from fct_payment_reconciliation"),
    }
    assert set(got) == set(HEADLINE_METRICS)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-9), name
    assert 0 < got["conversion_rate"] < 1 and 0 < got["refund_rate"] < 1


def test_metrics_group_by_region_through_the_foreign_dimension(warehouse, semantic_manifest):
    sql = metrics_sql(semantic_manifest, ["net_revenue"], ["daily_nation_revenue__region_name"])
    by_region = dict(warehouse.execute(sql).fetchall())
    expected = dict(
        warehouse.execute(
            "select region_name, sum(net_revenue) from dim_customers c join fct_orders o using "
            "(customer_id) group by region_name"
        ).fetchall()
    )
    assert by_region == expected
    assert len(by_region) == 5
