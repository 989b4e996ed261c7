"""Which destination a pipeline loads into, per dbt target, and warehouse-first on pg."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import replace

import duckdb
import psycopg2
import pytest

from ingestion.devservices import postgres
from ingestion.errors import PlatformError
from ingestion.pipelines import destinations
from ingestion.settings import load_settings
from tests.conftest import cli, platform_env


def settings_for(tmp_path, target: str, lake_url: str | None = None, env: dict[str, str] | None = None):
    settings = load_settings({"DATA_DIR": str(tmp_path), "DBT_TARGET": target, **(env or {})})
    return replace(settings, lake_url=lake_url) if lake_url else settings


@pytest.mark.parametrize(
    ("target", "env", "name", "dataset", "pipeline_name"),
    [
        ("dev", {}, "filesystem", "shop", "shop"),
        ("spark", {}, "filesystem", "shop", "shop"),
        ("pg", {"PG_PORT": "6543"}, "postgres", "raw_shop", "shop_postgres"),
        ("pg", {"INGEST_DESTINATION": "lake"}, "filesystem", "shop", "shop"),
    ],
    ids=["dev-lake", "spark-lake", "pg-warehouse", "pg-forced-to-lake"],
)
def test_destination_follows_the_target(tmp_path, target, env, name, dataset, pipeline_name):
    chosen = destinations.for_pipeline("shop", settings_for(tmp_path, target, env=env))
    assert chosen.name == name
    assert chosen.pipeline_kwargs("shop")["dataset_name"] == dataset
    assert chosen.pipeline_kwargs("shop")["pipeline_name"] == pipeline_name


@pytest.mark.parametrize(
    ("target", "dataset"),
    [("dev", "partners"), ("pg", "quarantine_partners")],
    ids=["lake", "warehouse"],
)
def test_quarantine_zone_has_its_own_dataset(tmp_path, target, dataset):
    chosen = destinations.for_pipeline("partners", settings_for(tmp_path, target), zone="quarantine")
    assert chosen.dataset_name == dataset
    if chosen.is_lake:
        assert chosen.destination.config_params["bucket_url"].endswith("/lake/quarantine")


def test_pg_url_comes_from_the_profile_variables():
    env = {"PG_HOST": "db.local", "PG_PORT": "6543", "PG_USER": "loader", "PG_PASSWORD": "p@ss"}
    assert destinations.postgres_url(load_settings(env)) == "postgresql://loader:p%40ss@db.local:6543/postgres"


def test_redshift_stages_through_the_s3_lake(tmp_path):
    env = {
        "REDSHIFT_HOST": "cluster.example",
        "REDSHIFT_LOADER_USER": "dlt_loader",
        "REDSHIFT_LOADER_PASSWORD": "secret",
        "REDSHIFT_DBNAME": "analytics",
    }
    chosen = destinations.for_pipeline("shop", settings_for(tmp_path, "redshift", "s3://lake", env))
    assert chosen.name == "redshift"
    assert chosen.staging is not None
    assert chosen.pipeline_kwargs("shop")["dataset_name"] == "raw_shop"


@pytest.mark.parametrize(
    ("target", "lake_url", "env", "message"),
    [
        ("redshift", "s3://lake", {}, "target redshift: set REDSHIFT_HOST"),
        ("redshift", None, {}, "target redshift: LAKE_URL must be an s3:// bucket"),
        ("athena", "s3://lake", {}, "target athena: set ATHENA_S3_STAGING_DIR"),
        (
            "dev",
            None,
            {"INGEST_DESTINATION": "warehouse"},
            "needs DBT_TARGET pg, redshift or athena",
        ),
        (
            "dev",
            None,
            {"INGEST_DESTINATION": "bigquery"},
            "INGEST_DESTINATION='bigquery' is not accepted: choose one of auto, lake, warehouse",
        ),
    ],
    ids=[
        "redshift-no-host",
        "redshift-local-lake",
        "athena-no-staging",
        "dev-warehouse",
        "unknown",
    ],
)
def test_missing_or_wrong_settings_name_the_target(tmp_path, target, lake_url, env, message):
    with pytest.raises(PlatformError, match=message.replace("(", r"\(")):
        destinations.for_pipeline("shop", settings_for(tmp_path, target, lake_url, env))


@pytest.mark.postgres
def test_pg_target_loads_the_raw_schema_into_postgres(pg_server, tmp_path):
    """Warehouse-first: every shop row lands in raw_shop, and nothing in the lake."""
    dbname = "warehouse_first"
    url = postgres.create_database(pg_server, dbname)
    env = platform_env(tmp_path, SF="0.01", DBT_TARGET="pg", PG_PORT=str(pg_server.port), PG_DBNAME=dbname)
    cli(env, "simulate", "init", "--sf", "0.01")
    cli(env, "ingest", "shop")

    shop_db = sqlite3.connect(tmp_path / "sources" / "shop.db")
    with psycopg2.connect(url) as con, con.cursor() as cur:
        for table in ("region", "customer", "orders", "lineitem"):
            cur.execute(f"select count(*) from raw_shop.{table}")
            (loaded,) = cur.fetchone()
            (in_source,) = shop_db.execute(f"select count(*) from {table}").fetchone()
            assert loaded == in_source > 0, table
        cur.execute("select count(*) from raw_shop._dlt_loads where status = 0")
        assert cur.fetchone()[0] == 1
    assert not (tmp_path / "lake" / "raw" / "shop").exists()


@pytest.mark.postgres
def test_processed_clickstream_loads_into_postgres_once(pg_server, tmp_path):
    """The job's output is merged into processed_clickstream on its keys.

    Every processed file is then made to look new, as after a load that committed but
    whose cursor was never saved, or after the job rewrote a partition: loading all of it
    again must double nothing.
    """
    dbname = "processed_load"
    url = postgres.create_database(pg_server, dbname)
    env = platform_env(tmp_path, SF="0.01", DBT_TARGET="pg", PG_PORT=str(pg_server.port), PG_DBNAME=dbname)
    cli(env, "simulate", "init", "--sf", "0.01", "--only", "clickstream")
    first = cli(env, "process", "clickstream").stdout
    assert "into postgres schema processed_clickstream" in first

    def counts() -> tuple[int, int, int]:
        with psycopg2.connect(url) as con, con.cursor() as cur:
            cur.execute("select count(*), count(distinct event_id) from processed_clickstream.events")
            events, distinct = cur.fetchone()
            cur.execute("select count(*) from processed_clickstream.audit")
            return events, distinct, cur.fetchone()[0]

    lake = tmp_path / "lake" / "processed"
    with duckdb.connect() as con:
        in_lake = con.execute(
            "select count(*) from read_parquet(?)", [str(lake / "clickstream" / "*" / "*.parquet")]
        ).fetchone()[0]
        files = con.execute(
            "select count(*) from read_parquet(?)", [str(lake / "clickstream_audit" / "*" / "*.parquet")]
        ).fetchone()[0]
    assert counts() == (in_lake, in_lake, files)
    assert in_lake > 0

    later = time.time() + 5
    for path in lake.rglob("*.parquet"):
        os.utime(path, (later, later))
    again = cli(env, "process", "clickstream").stdout
    reloaded = int(again.split("clickstream: loaded ")[1].split(" rows")[0].replace(",", ""))
    assert reloaded == in_lake + files, again
    assert counts() == (in_lake, in_lake, files)
