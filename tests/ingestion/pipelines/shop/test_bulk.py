"""`marketplace ingest shop --bulk`: a snapshot first load that the incremental pipeline continues."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.pipelines.shop import bulk, pipeline
from ingestion.pipelines.shop.settings import OPTIONAL_COLUMNS, TABLES
from marketplace.cli import main
from simulator import advance_sources, init_sources
from tests.conftest import BIN, dbt, platform_env, platform_settings
from tests.ingestion.pipelines.shop.test_pipeline import lake_versions, source_counts
from tests.reliability.crashes import kill_when, pending_packages, phase_under_way
from tests.reliability.test_malformed_input import assert_lake_holds_exactly, lake_state, shop_file
from tests.reliability.test_storage_faults import downloaded_whole, s3, s3_platform  # noqa: F401 (s3: a fixture)

CUTOFF = date(1998, 7, 25)
SINCE_CUTOFF = "1998-07-25 23:59:59"


@pytest.fixture
def settings(tmp_path):
    settings = platform_settings(tmp_path / "data")
    init_sources(settings, CUTOFF, only=())
    return settings


def committed_load_ids(settings) -> set[str]:
    raw = settings.zone_url("raw", "shop")
    with duck.connect() as con:
        query = f"select load_id from read_json_auto('{raw}/_dlt_loads/*') where status = 0"
        return {row[0] for row in con.execute(query).fetchall()}


def row_load_ids(settings) -> set[str]:
    raw = settings.zone_url("raw", "shop")
    with duck.connect() as con:
        return {
            load_id
            for table in TABLES
            for (load_id,) in con.execute(
                f"select distinct _dlt_load_id from read_parquet('{raw}/{table}/*.parquet')"
            ).fetchall()
        }


def described(settings, table: str) -> list[tuple]:
    """(column, type) of a table's raw files, as DuckDB (and so dbt staging) reads them."""
    with duck.connect() as con:
        return con.execute(
            "select column_name, column_type from (describe select * from"
            f" read_parquet('{settings.zone_url('raw', 'shop', table)}/*.parquet'))"
        ).fetchall()


def rows_and_differences(one, other, table: str) -> tuple[int, int]:
    """(rows of ``table`` in ``one``'s raw zone, rows in either lake and not the other), load ids aside."""
    selects = [
        f"select * exclude (_dlt_load_id) from read_parquet('{s.zone_url('raw', 'shop', table)}/*.parquet')"
        for s in (one, other)
    ]
    with duck.connect() as con:
        differ = con.execute(
            f"select count(*) from (({selects[0]} except all {selects[1]}) union all"
            f" ({selects[1]} except all {selects[0]}))"
        ).fetchone()[0]
        rows = con.execute(f"select count(*) from ({selects[0]})").fetchone()[0]
    return rows, differ


def test_a_bulk_load_lands_every_row_once_in_one_committed_load(settings):
    result = bulk.run(settings, progress=None)

    assert result["rows"] == source_counts(settings)
    for table in TABLES:
        assert lake_versions(settings, table) == (result["rows"][table],) * 2, table
    (load_id,) = result["load_ids"]
    assert row_load_ids(settings) == {load_id} and load_id in committed_load_ids(settings)
    assert result["destination"] == settings.zone_url("raw", "shop")
    assert not (settings.pipelines_dir / "shop" / bulk.SCRATCH).exists(), "the scratch folder is removed"


def drop_optional_columns(db: Path) -> None:
    with closing(sqlite3.connect(db)) as con:
        for table, columns in OPTIONAL_COLUMNS.items():
            for column in columns:
                con.execute(f"alter table {table} drop column {column}")
        con.commit()


@pytest.mark.parametrize("optional", [True, False], ids=["full-shop", "without-optional-columns"])
def test_the_bulk_files_read_as_an_incremental_first_load_writes_them(tmp_path, optional):
    by_bulk = platform_settings(tmp_path / "bulk")
    init_sources(by_bulk, CUTOFF, only=())
    if not optional:
        drop_optional_columns(shop_file(by_bulk))
    by_pipeline = platform_settings(tmp_path / "incremental", SHOP_DB_URL=by_bulk.shop_db_url)

    bulk.run(by_bulk, progress=None)
    pipeline.run(by_pipeline, progress=None)

    for table in TABLES:
        columns = described(by_bulk, table)
        assert columns == described(by_pipeline, table), table
        assert columns[-1] == ("_dlt_load_id", "VARCHAR")
        rows, differ = rows_and_differences(by_bulk, by_pipeline, table)
        assert differ == 0, f"{table}: {differ} of {rows} rows differ"
    money = dict(described(by_bulk, "orders"))["o_totalprice"]
    assert money == "DECIMAL(15,2)"
    if not optional:
        assert dict(described(by_bulk, "customer"))["c_loyalty_tier"] == "VARCHAR"


def test_the_incremental_pipeline_continues_from_the_snapshot(settings):
    initial = source_counts(settings)
    bulk.run(settings, progress=None)

    assert sum(pipeline.run(settings, progress=None)["rows"].values()) == 0, "nothing changed, nothing loaded"

    advance_sources(settings, 2)
    after = pipeline.run(settings, progress=None)
    changed = {t: n for t, n in source_counts(settings, since=SINCE_CUTOFF).items() if n}
    assert {t: n for t, n in after["rows"].items() if n} == changed
    assert changed["orders"] > 0
    for table in TABLES:
        rows, versions = lake_versions(settings, table)
        assert rows == versions == initial[table] + changed.get(table, 0), f"{table}: a version twice or missing"
    assert row_load_ids(settings) <= committed_load_ids(settings)


def test_a_new_working_folder_continues_from_the_snapshot_too(settings):
    """A fresh worker (no dlt folder) restores the state from the lake before the source reads it."""
    bulk.run(settings, progress=None)
    shutil.rmtree(settings.pipelines_dir / "shop")

    advance_sources(settings, 2)
    after = pipeline.run(settings, progress=None)

    changed = {t: n for t, n in source_counts(settings, since=SINCE_CUTOFF).items() if n}
    assert {t: n for t, n in after["rows"].items() if n} == changed


@pytest.mark.parametrize("first", ["bulk", "incremental"])
def test_a_bulk_load_into_a_loaded_lake_is_refused_and_writes_nothing(settings, first):
    (bulk.run if first == "bulk" else pipeline.run)(settings, progress=None)
    before = lake_state(settings)
    env = platform_env(settings.data_dir)

    result = CliRunner().invoke(main, ["ingest", "shop", "--bulk"], env=env)

    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "is for the first load into an empty raw zone" in lines[0]
    assert "run `marketplace ingest shop` instead" in lines[0]
    assert lake_state(settings) == before


def test_a_lake_loaded_from_another_working_folder_is_refused(settings):
    pipeline.run(settings, progress=None)
    shutil.rmtree(settings.pipelines_dir / "shop")
    with pytest.raises(PlatformError, match="already holds shop loads"):
        bulk.run(settings, progress=None)


def test_a_bulk_load_into_an_s3_lake(tmp_path, s3):  # noqa: F811 (the fixture)
    _, settings = s3_platform(tmp_path, s3)
    result = bulk.run(settings, progress=None)

    landed = downloaded_whole(s3, tmp_path / "copy")
    assert assert_lake_holds_exactly(landed, shop_file(settings)) == sum(result["rows"].values()) > 0
    shutil.rmtree(settings.pipelines_dir / "shop")
    with pytest.raises(PlatformError, match="already holds shop loads"):
        bulk.run(settings, progress=None)


def test_warehouse_destinations_are_refused(tmp_path):
    settings = platform_settings(tmp_path / "data", DBT_TARGET="pg")
    with pytest.raises(PlatformError, match="loads the lake only, and DBT_TARGET=pg"):
        bulk.run(settings, progress=None)


@pytest.mark.parametrize("names", [("all",), ("payments",), ("shop", "payments"), ()], ids=str)
def test_bulk_is_for_the_shop_alone(tmp_path, names):
    result = CliRunner().invoke(main, ["ingest", *names, "--bulk"], env={"DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "--bulk loads the shop only" in result.output


def copying(working_dir: Path):
    """The bulk run is in its extraction and DuckDB has written a table's files."""
    return lambda: any(working_dir.glob(f"{bulk.SCRATCH}/*/*.parquet")) and phase_under_way(working_dir, "extract")


@pytest.mark.parametrize("phase", ["copy", "load"])
def test_a_killed_bulk_run_is_finished_by_the_next_one(settings, phase):
    working_dir = settings.pipelines_dir / "shop"
    under_way = copying(working_dir) if phase == "copy" else lambda: phase_under_way(working_dir, "load")
    args = [str(BIN / "marketplace"), "ingest", "shop", "--bulk"]
    output = settings.data_dir / "killed.log"
    assert kill_when(platform_env(settings.data_dir), args, under_way, output), "the run ended before the kill"
    pending = pending_packages(working_dir)
    if phase == "copy":
        assert not pending and not committed_load_ids_or_none(settings), "a kill mid-copy leaves no package"
    else:
        assert len(pending) == 1 and not committed_load_ids_or_none(settings)

    result = bulk.run(settings, progress=None)

    assert result["rows"] == source_counts(settings)
    assert assert_lake_holds_exactly(settings, shop_file(settings)) == sum(result["rows"].values())
    assert row_load_ids(settings) == committed_load_ids(settings) == set(result["load_ids"])
    if phase == "load":
        assert result["load_ids"] == pending, "the killed run's package is the one loaded"
    assert not pending_packages(working_dir)
    assert not [p for p in (working_dir / "normalize").iterdir() if p.is_dir() and p.name != "extracted"]
    assert not (working_dir / bulk.SCRATCH).exists()


def committed_load_ids_or_none(settings) -> set[str]:
    try:
        return committed_load_ids(settings)
    except duckdb.IOException:  # no _dlt_loads yet
        return set()


def test_dbt_staging_reads_the_bulk_loaded_lake(settings):
    bulk.run(settings, progress=None)
    env = platform_env(settings.data_dir)

    dbt(env, "run", "--select", "stg_shop__loads", "stg_shop__orders")

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        staged = con.execute("select count(*) from stg_shop__orders").fetchone()[0]
    assert staged == source_counts(settings)["orders"]


@pytest.mark.postgres
def test_a_postgres_shop_bulk_load_continues_as_an_incremental_one(tmp_path, postgres_shop_url):
    """Bulk then incremental, and incremental only, from one Postgres shop: the same row versions."""
    by_bulk = platform_settings(tmp_path / "bulk", SHOP_DB_URL=postgres_shop_url)
    by_pipeline = platform_settings(tmp_path / "incremental", SHOP_DB_URL=postgres_shop_url)
    init_sources(by_bulk, date(1998, 7, 28), only=())
    bulk.run(by_bulk, progress=None)
    pipeline.run(by_pipeline, progress=None)
    for table in TABLES:
        assert described(by_bulk, table) == described(by_pipeline, table), table
    advance_sources(by_bulk, 2)
    for settings in (by_bulk, by_pipeline):
        pipeline.run(settings, progress=None)
    for table in TABLES:
        rows, differ = rows_and_differences(by_bulk, by_pipeline, table)
        assert rows > 0 and differ == 0, f"{table}: {differ} of {rows} row versions differ"
