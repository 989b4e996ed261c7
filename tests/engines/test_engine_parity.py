"""The shop marts are the same, row for row, on DuckDB, PostgreSQL and Spark.

One simulated shop (SF 0.01) feeds all three: the lake for DuckDB (ci) and Spark, and
PostgreSQL's raw_shop schema, loaded warehouse-first by the same dlt pipeline. Each
engine then builds the shop lineage, and every row of every core mart must match.

The one normalisation (docs/engines.md explains it): numbers compare by value, not by
type. A sum widens to decimal(38, s) on DuckDB, decimal(p+10, s) on Spark and to
unconstrained numeric on PostgreSQL, and integer sums come back as HUGEINT, BIGINT or
numeric; Python's int and Decimal compare exactly by value (1.50 == 1.5, 7 == Decimal(7)),
so any difference in a value fails, with no tolerance. Columns are matched by name;
timestamps, dates and strings compare as they are.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg2
import pytest

from ingestion.devservices import postgres
from tests.conftest import cli, dbt, platform_env

CORE_MARTS = (
    "fct_orders",
    "fct_order_lines",
    "dim_customers",
    "dim_suppliers",
    "dim_parts",
    "fct_daily_revenue",
)
BUILD = (
    "build",
    "--select",
    "tag:shop",
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.spark]


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory) -> Path:
    """The shop built on ci, pg and spark from one simulated DATA_DIR."""
    data_dir = tmp_path_factory.mktemp("parity")
    pg_env = {"PG_PORT": str(pg_server.port), "PG_DBNAME": "parity"}
    postgres.create_database(pg_server, "parity")
    env = platform_env(data_dir, SF="0.01")
    cli(env, "sources", "init", "--sf", "0.01")
    cli(env, "ingest", "shop")
    cli({**env, "DBT_TARGET": "pg", **pg_env}, "ingest", "shop")
    dbt(env, *BUILD)
    dbt({**env, "DBT_TARGET": "pg", **pg_env}, *BUILD)
    # No Delta/Iceberg offline: Spark rebuilds incremental models in full (docs/engines.md).
    dbt({**env, "DBT_TARGET": "spark"}, *BUILD, "--full-refresh")
    return data_dir


def read_duckdb(data_dir: Path, mart: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute(f"select * from main.{mart}")
        return [c[0] for c in cur.description], cur.fetchall()


def read_pg(port: int, mart: str) -> tuple[list[str], list[tuple]]:
    with (
        psycopg2.connect(f"postgresql://postgres@127.0.0.1:{port}/parity") as con,
        con.cursor() as cur,
    ):
        cur.execute(f"select * from analytics.{mart}")
        return [c.name for c in cur.description], cur.fetchall()


def read_spark(data_dir: Path, mart: str) -> tuple[list[str], list[tuple]]:
    """The mart's Parquet files in the Spark warehouse, read without starting a JVM."""
    files = data_dir / "spark" / "warehouse" / "analytics.db" / mart / "*.parquet"
    with duckdb.connect() as con:
        cur = con.execute("select * from read_parquet(?)", [str(files)])
        return [c[0] for c in cur.description], cur.fetchall()


def normalised(columns: list[str], rows: list[tuple], order: list[str]) -> list[tuple]:
    """Rows with their columns in ``order``, sorted."""
    index = [columns.index(name) for name in order]
    return sorted(tuple(row[i] for i in index) for row in rows)


def differences(expected: list[tuple], actual: list[tuple], limit: int = 5) -> str:
    missing = sorted(set(expected) - set(actual))[:limit]
    extra = sorted(set(actual) - set(expected))[:limit]
    return f"{len(expected)} vs {len(actual)} rows; only on DuckDB: {missing}; only here: {extra}"


@pytest.mark.parametrize("mart", CORE_MARTS)
@pytest.mark.parametrize("engine", ["pg", "spark"])
def test_mart_matches_duckdb_row_for_row(built, pg_server, engine, mart):
    columns, rows = read_duckdb(built, mart)
    other_columns, other_rows = read_pg(pg_server.port, mart) if engine == "pg" else read_spark(built, mart)
    assert sorted(other_columns) == sorted(columns)
    expected = normalised(columns, rows, columns)
    actual = normalised(other_columns, other_rows, columns)
    assert expected, f"{mart} is empty on DuckDB: nothing was compared"
    assert actual == expected, differences(expected, actual)


def test_spark_incremental_run_asks_for_full_refresh(built):
    """Into an existing Parquet table Spark cannot merge: a clear error, not a wrong table."""
    env = {**platform_env(built, SF="0.01"), "DBT_TARGET": "spark"}
    proc = dbt(env, "run", "--select", "stg_shop__orders", check=False)
    assert proc.returncode != 0
    assert "target spark: " in proc.stdout and "dbt build --full-refresh" in proc.stdout
