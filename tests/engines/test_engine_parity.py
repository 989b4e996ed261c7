"""Every mart is the same, row for row, on DuckDB, PostgreSQL and Spark.

One simulated company (SF 0.01, all four sources) feeds all three engines the way each
one runs in production:

- DuckDB (``ci``) and Spark read the lake: raw Parquet from the dlt pipelines and the
  clickstream job's processed Parquet.
- PostgreSQL is warehouse-first: the same pipelines load ``raw_shop``, ``raw_payments``,
  ``raw_partners`` and ``quarantine_partners`` into it, and ``ingestion process`` loads
  the job's output into ``processed_clickstream``.

History is loaded and built, then two more days are released and loaded, so DuckDB and
PostgreSQL end with incremental runs (and the processed events are merged into
PostgreSQL a second time) while Spark builds everything in one full run: equal marts also
say that incremental equals full.

The one normalisation (docs/engines.md explains it): numbers compare by value, not by
type. A sum widens to decimal(38, s) on DuckDB, decimal(p+10, s) on Spark and to
unconstrained numeric on PostgreSQL, and integer sums come back as HUGEINT, BIGINT or
numeric; Python's int and Decimal compare exactly by value (1.50 == 1.5, 7 == Decimal(7)),
so any difference in a value fails, with no tolerance. Columns are matched by name;
timestamps, dates, strings and doubles compare as they are.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg2
import pytest

from ingestion.devservices import postgres
from tests.conftest import ROOT, cli, dbt, platform_env

# Every model under models/marts/, so a new mart is compared without editing this file.
MARTS = sorted(path.stem for path in (ROOT / "models" / "marts").rglob("*.sql"))
# Everything: seeds, models, snapshots (not on Spark), data tests and unit tests.
BUILD = ("build",)
# PostgreSQL's incremental run is the daily job's (`make run`): tests only on the rows it
# wrote, through the run-scope table it records first (macros/incremental/).
DAILY = ("--vars", "{tests_scope: run}")
ADVANCE_DAYS = "2"

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.spark]


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory) -> Path:
    """The whole project built on ci, pg and spark from one simulated DATA_DIR."""
    data_dir = tmp_path_factory.mktemp("parity")
    postgres.create_database(pg_server, "parity")
    lake_env = platform_env(data_dir, SF="0.01")
    pg_env = {**lake_env, "DBT_TARGET": "pg", "PG_PORT": str(pg_server.port), "PG_DBNAME": "parity"}

    def load_both() -> None:
        for env in (lake_env, pg_env):
            cli(env, "ingest", "all")
            cli(env, "process", "all")  # on pg: nothing new to process, then the load

    cli(lake_env, "simulate", "init", "--sf", "0.01")
    load_both()
    dbt(lake_env, *BUILD)
    dbt(pg_env, *BUILD)
    cli(lake_env, "simulate", "advance", "--days", ADVANCE_DAYS)
    load_both()
    dbt(lake_env, *BUILD)
    dbt(pg_env, *BUILD, *DAILY)
    # No Delta/Iceberg offline: Spark rebuilds incremental models in full (docs/engines.md).
    dbt({**lake_env, "DBT_TARGET": "spark"}, *BUILD, "--full-refresh")
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


@pytest.mark.parametrize("mart", MARTS)
@pytest.mark.parametrize("engine", ["pg", "spark"])
def test_mart_matches_duckdb_row_for_row(built, pg_server, engine, mart):
    columns, rows = read_duckdb(built, mart)
    other_columns, other_rows = read_pg(pg_server.port, mart) if engine == "pg" else read_spark(built, mart)
    assert sorted(other_columns) == sorted(columns)
    expected = normalised(columns, rows, columns)
    actual = normalised(other_columns, other_rows, columns)
    assert expected, f"{mart} is empty on DuckDB: nothing was compared"
    assert actual == expected, differences(expected, actual)


def test_every_mart_is_compared():
    """The list comes from the models folder; an empty one would compare nothing."""
    assert {"fct_orders", "fct_sessions", "fct_payment_reconciliation", "fct_supplier_stock"} <= set(MARTS)


def test_postgres_holds_every_row_the_lake_holds(built, pg_server):
    """Warehouse-first loading lost and doubled nothing: raw and processed tables, row for row in count."""
    tables = {
        "raw_shop.orders": "raw/shop/orders/*.parquet",
        "raw_payments.charges": "raw/payments/charges/*.parquet",
        "raw_partners.partner_inventory": "raw/partners/partner_inventory/*.parquet",
        "quarantine_partners.rejected_rows": "quarantine/partners/rejected_rows/*.parquet",
        "processed_clickstream.events": "processed/clickstream/*/*.parquet",
        "processed_clickstream.audit": "processed/clickstream_audit/*/*.parquet",
    }
    with (
        psycopg2.connect(f"postgresql://postgres@127.0.0.1:{pg_server.port}/parity") as con,
        con.cursor() as cur,
        duckdb.connect() as lake,
    ):
        for table, files in tables.items():
            cur.execute(f"select count(*) from {table}")
            in_pg = cur.fetchone()[0]
            in_lake = lake.execute("select count(*) from read_parquet(?)", [str(built / "lake" / files)]).fetchone()[0]
            assert in_lake > 0, f"{files}: nothing in the lake to compare"
            assert in_pg == in_lake, f"{table}: {in_pg} rows in PostgreSQL, {in_lake} in the lake"


def test_spark_incremental_run_asks_for_full_refresh(built):
    """Into an existing Parquet table Spark cannot merge: a clear error, not a wrong table."""
    env = {**platform_env(built, SF="0.01"), "DBT_TARGET": "spark"}
    proc = dbt(env, "run", "--select", "stg_shop__orders", check=False)
    assert proc.returncode != 0
    assert "target spark: " in proc.stdout and "dbt build --full-refresh" in proc.stdout
