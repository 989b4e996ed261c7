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
say that incremental equals full. Then (slow) one more day on every engine, incremental on
Spark too: its insert_overwrite of month and day partitions equals DuckDB's delete+insert,
and the partitions it had no reason to touch keep their files.

The one normalisation (docs/engines.md explains it): numbers compare by value, not by
type. A sum widens to decimal(38, s) on DuckDB, decimal(p+10, s) on Spark and to
unconstrained numeric on PostgreSQL, and integer sums come back as HUGEINT, BIGINT or
numeric; Python's int and Decimal compare exactly by value (1.50 == 1.5, 7 == Decimal(7)),
so any difference in a value fails, with no tolerance. Columns are matched by name;
timestamps, dates, strings and doubles compare as they are.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psycopg2
import pytest

from ingestion.devservices import postgres
from tests.conftest import ROOT, cli, dbt, platform_env
from tests.engines.conftest import model_configs

# Every model under models/marts/, so a new mart is compared without editing this file.
MARTS = sorted(path.stem for path in (ROOT / "models" / "marts").rglob("*.sql"))
# Everything: seeds, models, snapshots (not on Spark), data tests and unit tests.
BUILD = ("build",)
# PostgreSQL's incremental run is the daily job's (`make run`): tests only on the rows it
# wrote, through the run-scope table it records first (macros/incremental/).
DAILY = ("--vars", "{tests_scope: run}")
ADVANCE_DAYS = "2"

# slow: building the same company on PostgreSQL and Spark takes about 5 minutes before any
# comparison (the largest setup of the suite), so `make test-slow` runs it, not `make test`.
pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.spark, pytest.mark.slow]


def engine_envs(data_dir: Path, pg_port: int) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The environments of the lake (ci), pg and spark builds over ``data_dir``."""
    lake_env = platform_env(data_dir, SF="0.01")
    pg_env = {**lake_env, "DBT_TARGET": "pg", "PG_PORT": str(pg_port), "PG_DBNAME": "parity"}
    return lake_env, pg_env, {**lake_env, "DBT_TARGET": "spark"}


def load_both(lake_env: dict[str, str], pg_env: dict[str, str]) -> None:
    for env in (lake_env, pg_env):
        cli(env, "ingest", "all")
        cli(env, "process", "all")  # on pg: nothing new to process, then the load


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory) -> Path:
    """The whole project built on ci, pg and spark from one simulated DATA_DIR."""
    data_dir = tmp_path_factory.mktemp("parity")
    postgres.create_database(pg_server, "parity")
    lake_env, pg_env, spark_env = engine_envs(data_dir, pg_server.port)
    cli(lake_env, "simulate", "init", "--sf", "0.01")
    load_both(lake_env, pg_env)
    dbt(lake_env, *BUILD)
    dbt(pg_env, *BUILD)
    cli(lake_env, "simulate", "advance", "--days", ADVANCE_DAYS)
    load_both(lake_env, pg_env)
    dbt(lake_env, *BUILD)
    dbt(pg_env, *BUILD, *DAILY)
    dbt(spark_env, *BUILD)  # Spark's first build: every table created in full
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


def spark_table(data_dir: Path, model: str) -> Path:
    return data_dir / "spark" / "warehouse" / "analytics.db" / model


def read_spark(
    data_dir: Path, mart: str, query: str = "select * from rows", params: list | None = None
) -> tuple[list[str], list[tuple]]:
    """The mart's Parquet files in the Spark warehouse, read without starting a JVM.

    A partitioned table keeps its files under ``<column>=<date>/`` (a month's first day, or
    a day), and the date only in the folder name: hive_partitioning reads it back as a
    column (a date).
    """
    table = spark_table(data_dir, mart)
    partitioned = not any(table.glob("*.parquet"))
    files = table / ("*/*.parquet" if partitioned else "*.parquet")
    with duckdb.connect() as con:
        # A view cannot take prepared parameters: the path goes in as a quoted literal.
        path = str(files).replace("'", "''")
        con.execute(
            f"create view rows as select * from read_parquet('{path}', "
            f"hive_partitioning = {str(partitioned).lower()}, hive_types_autocast = true)"
        )
        cur = con.execute(query, params)
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


def partition_files(table: Path) -> dict[str, set[tuple[str, int, int]]]:
    """Partition folder (``order_month=1998-07-01``) → its data files as (name, size, mtime in ns)."""
    return {
        folder.name: {(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in folder.glob("*.parquet")}
        for folder in table.iterdir()
        if folder.is_dir() and "=" in folder.name
    }


def lookback_days() -> int:
    text = (ROOT / "dbt_project.yml").read_text()
    return int(re.search(r"^\s*clickstream_lookback_days:\s*(\d+)", text, re.MULTILINE).group(1))


def newest_day(data_dir: Path, mart: str, day_column: str) -> str:
    """The newest day a mart rebuilt by date holds, read before its next run."""
    _, [(newest,)] = read_spark(data_dir, mart, f"select cast(max({day_column}) as varchar) from rows")
    return newest


def dates_to_rewrite(data_dir: Path, old_days: set[str], day_column: str, newest: str) -> set[str]:
    """The day folders that the last run of a mart rebuilt by date had to write, read after it.

    rows_in_lookback_window.sql and clickstream_rebuild_from.sql: the days from the newest
    one built (``newest``) back over the clickstream lookback and one day more, or from
    the day before the oldest event that landed since, if that is earlier. Events that
    landed since are those whose file landed on ``newest`` or later.
    """
    with duckdb.connect() as con:
        [(oldest_landed,)] = con.execute(
            "select min(event_date) from read_parquet(?, hive_partitioning = true) where landing_date >= ?",
            [str(data_dir / "lake" / "processed" / "clickstream" / "*" / "*.parquet"), newest],
        ).fetchall()
    rebuild_from = date.fromisoformat(newest) - timedelta(days=lookback_days() + 1)
    if oldest_landed is not None:
        rebuild_from = min(rebuild_from, oldest_landed - timedelta(days=1))
    prefix = f"{day_column}="
    return {folder for folder in old_days if date.fromisoformat(folder.removeprefix(prefix)) >= rebuild_from}


def keyed_partitions_written(data_dir: Path, mart: str, column: str, watermark: str, newest) -> set[str]:
    """The partition folders that the last run of a keyed mart had to write, read after it.

    The partitions (months) of the rows at or above the mart's watermark before the run:
    the rows it wrote (``>=``: the rows at the boundary are rebuilt too).
    """
    _, rows = read_spark(
        data_dir, mart, f"select distinct cast({column} as varchar) from rows where {watermark} >= ?", [newest]
    )
    return {f"{column}={value}" for (value,) in rows}


@pytest.fixture(scope="module")
def a_day_later(built, pg_server) -> dict[str, dict]:
    """One more day on every engine: the daily job's incremental run on DuckDB, pg and Spark.

    Returns, for each mart partitioned on Spark, its partition files and newest watermark
    before the run, and its partition files after it.
    """
    lake_env, pg_env, spark_env = engine_envs(built, pg_server.port)
    configs = model_configs(built / "target")
    partitioned = {
        mart: configs[mart]["partition_by"]
        for mart in MARTS
        if configs[mart].get("partition_by") and configs[mart]["materialized"] == "incremental"
    }
    before = {}
    for mart, column in partitioned.items():
        columns, _ = read_spark(built, mart, "select * from rows limit 0")
        watermark = "updated_at" if "updated_at" in columns else None
        newest = read_spark(built, mart, f"select max({watermark}) from rows")[1][0][0] if watermark else None
        before[mart] = {
            "partition_column": column,
            "watermark": watermark,
            "newest": newest,
            "files": partition_files(spark_table(built, mart)),
            "newest_day": None if watermark else newest_day(built, mart, column),
        }
    cli(lake_env, "simulate", "advance", "--days", "1")
    load_both(lake_env, pg_env)
    dbt(lake_env, *BUILD)
    dbt(pg_env, *BUILD, *DAILY)
    dbt(spark_env, *BUILD, *DAILY)  # incremental: no --full-refresh
    for mart, state in before.items():
        state["after"] = partition_files(spark_table(built, mart))
    return before


@pytest.mark.parametrize("mart", MARTS)
def test_spark_daily_run_matches_duckdb(a_day_later, built, mart):
    """After Spark's incremental run (insert_overwrite of partitions), every mart equals DuckDB's."""
    columns, rows = read_duckdb(built, mart)
    spark_columns, spark_rows = read_spark(built, mart)
    assert sorted(spark_columns) == sorted(columns)
    expected = normalised(columns, rows, columns)
    assert expected, f"{mart} is empty on DuckDB: nothing was compared"
    assert normalised(spark_columns, spark_rows, columns) == expected


def test_spark_daily_run_rewrote_only_the_partitions_it_had_to(a_day_later, built):
    """Each partitioned mart: old partitions outside the run's reach keep their very files.

    A partition folder (a month of orders, a day of sessions) counts as rewritten when any
    of its data files changed name, size or modification time. The partitions the run had
    to write are those of the rows it wrote (at or above the mart's watermark before the
    run) or, for a mart rebuilt by date, its lookback window, reaching back to the oldest
    event that landed since. Exactly those old partitions may change, there must be
    history left, and the newest partition (the new day, or the month it falls in) was
    written.
    """
    assert {"fct_orders", "fct_order_lines", "fct_daily_revenue", "fct_sessions"} <= set(a_day_later)
    for mart, state in a_day_later.items():
        old, after = state["files"], state["after"]
        column = state["partition_column"]
        added = set(after) - set(old)
        if state["watermark"]:
            window = keyed_partitions_written(built, mart, column, state["watermark"], state["newest"])
            assert added <= window, f"{mart}: added {sorted(added)}, had to write {sorted(window)}"
        else:
            window = dates_to_rewrite(built, set(old), column, state["newest_day"])
            assert added, f"{mart}: the run added no day"
        rewritten = {folder for folder, files in old.items() if after.get(folder) != files}
        untouched = set(old) - rewritten
        assert rewritten == window & set(old), f"{mart}: rewrote {sorted(rewritten)[:5]}, had to {sorted(window)[:5]}"
        assert len(untouched) > len(rewritten), f"{mart}: {len(untouched)} of {len(old)} partitions untouched"
        assert max(after) in rewritten | added, f"{mart}: the newest partition {max(after)} was not written"
