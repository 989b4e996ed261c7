"""Scenario 11, write-audit-publish: only a build whose every test passed goes live.

Each engine starts from yesterday's live marts (the built platform at SF 0.01), lets one
simulated day pass and loads the shop's new rows. Then one order of the new day is
given a customer the shop does not have, and ``marketplace publish`` must refuse: the
live marts stay exactly as they were (the DuckDB file byte for byte, the PostgreSQL
tables row for row and the same tables), and the failing test is reported with the rows
dbt stored for it. With the order put right, the next publish swaps the new day in.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import psycopg2
import pytest
from psycopg2 import sql

from ingestion.devservices import postgres
from ingestion.errors import PlatformError
from tests.conftest import STEP_LOGS, cli, platform_env

# slow: each test loads a warehouse and builds it twice (about 1.5 minutes for the DuckDB pair).
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

# FAIL <test>: <n> failing row(s) in <relation> (<staging area>)
FAILURE_LINE = re.compile(r"^FAIL (\S+): (\d+) failing rows? in (\S+) \((.+)\)$")


def _copy_platform(built_platform: dict[str, str], dest: Path, **overrides: str) -> dict[str, str]:
    """The built platform in a DATA_DIR of this module's own, which it may damage."""
    shutil.copytree(Path(built_platform["DATA_DIR"]), dest, ignore=shutil.ignore_patterns("logs", STEP_LOGS))
    # its PII salt too: the incremental dimensions keep the names it hashed
    salt = {"PII_SALT": built_platform["PII_SALT"]} if "PII_SALT" in built_platform else {}
    return platform_env(dest, SF="0.01", **{**salt, **overrides})


def _failure_lines(stderr: str) -> list[tuple[str, int, str, str]]:
    found = [FAILURE_LINE.match(line) for line in stderr.splitlines()]
    return [(m[1], int(m[2]), m[3], m[4]) for m in found if m]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- DuckDB -----------------------------------------------------------------------------


def _newest_orders_file(data_dir: Path) -> Path:
    """The orders the last shop load wrote (dlt names raw files <load id>.<file id>.parquet)."""
    files = (data_dir / "lake" / "raw" / "shop" / "orders").glob("*.parquet")
    return max(files, key=lambda path: float(".".join(path.name.split(".")[:2])))


@pytest.fixture(scope="module")
def platform(built_platform, tmp_path_factory) -> dict:
    """Yesterday's marts, then one more simulated day loaded, in one copy of the built platform.

    DuckDB's are the built warehouse; PostgreSQL's (when it is installed) are loaded and
    published into a throwaway cluster first. Both engines share the sources and the day.
    """
    env = _copy_platform(built_platform, tmp_path_factory.mktemp("wap") / "data")
    found = {"duckdb": env, "pg": None, "pg_url": None, "no_pg": ""}
    base = None
    try:
        postgres._binary("initdb")
    except PlatformError as exc:
        found["no_pg"] = str(exc)
    else:
        base = Path(tempfile.mkdtemp(prefix="wap-pg-"))  # not pytest's 0700 tmp: the server runs as postgres
        server = postgres.start(base)
        found["pg_url"] = postgres.create_database(server, "wap")
        found["pg"] = {**env, "DBT_TARGET": "pg", "PG_PORT": str(server.port), "PG_DBNAME": "wap"}
        cli(found["pg"], "ingest", "all")
        cli(found["pg"], "process", "all")
        assert "published:" in cli(found["pg"], "publish").stdout  # the first publish: nothing live yet
    cli(env, "simulate", "advance", "--days", "1")
    cli(env, "ingest", "shop")
    if found["pg"]:
        cli(found["pg"], "ingest", "shop")
    yield found
    if base:
        postgres.stop(base, remove=True)


@pytest.fixture
def duck(platform) -> dict[str, str]:
    return platform["duckdb"]


def test_duckdb_failing_test_leaves_the_live_warehouse_byte_identical(duck):
    data_dir = Path(duck["DATA_DIR"])
    live = data_dir / "warehouse.duckdb"
    orders = _newest_orders_file(data_dir)
    good = orders.read_bytes()
    with duckdb.connect() as con:
        lake = f"{data_dir}/lake/raw/shop"
        bad_customer = con.execute(f"select max(c_custkey) + 1000 from '{lake}/customer/*.parquet'").fetchone()[0]
        order = con.execute(f"select min(o_orderkey) from '{orders}'").fetchone()[0]
        tampered = orders.with_suffix(".tmp")
        con.execute(
            f"copy (select * replace (case when o_orderkey = {order} then {bad_customer} else o_custkey end "
            f"as o_custkey) from '{orders}') to '{tampered}' (format parquet)"
        )
    tampered.replace(orders)
    before = _sha256(live)
    state = data_dir / "state" / "prod" / "manifest.json"  # other tests' builds may have saved one
    state_before = state.read_bytes() if state.exists() else None
    try:
        proc = cli(duck, "publish", "--fail-fast", check=False)
    finally:
        orders.write_bytes(good)

    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1].startswith("error: publish stopped")
    assert _sha256(live) == before
    assert (state.read_bytes() if state.exists() else None) == state_before, "no state saved for a failed publish"
    failing = _failure_lines(proc.stderr)
    assert failing, proc.stderr[-3000:]
    staged = data_dir / "publish" / "warehouse.duckdb"
    with duckdb.connect(str(staged), read_only=True) as con:
        stored_rows = []
        for _test, count, relation, where in failing:
            assert where == str(staged)
            rows = con.execute(f"select * from {relation}").fetchall()
            assert len(rows) == count
            stored_rows += rows
    # The stored rows are the damaged order's: its customer, which the shop lacks.
    assert any(bad_customer in row for row in stored_rows)
    assert any("customer_id" in test and "relationships" in test for test, *_ in failing)


def test_duckdb_passing_publish_swaps_the_new_day_in(duck):
    data_dir = Path(duck["DATA_DIR"])
    live = data_dir / "warehouse.duckdb"
    with duckdb.connect() as con:
        in_lake = con.execute(
            f"select count(distinct o_orderkey) from '{data_dir}/lake/raw/shop/orders/*.parquet'"
        ).fetchone()[0]
    reader = duckdb.connect(str(live), read_only=True)  # a dashboard holding yesterday's file open
    try:
        yesterday = reader.execute("select count(*) from main.fct_orders").fetchone()[0]
        proc = cli(duck, "publish")
        assert "published:" in proc.stdout
        # The open reader keeps reading the file it opened; a new one sees the new day.
        assert reader.execute("select count(*) from main.fct_orders").fetchone()[0] == yesterday
    finally:
        reader.close()
    with duckdb.connect(str(live), read_only=True) as con:
        today = con.execute("select count(*) from main.fct_orders").fetchone()[0]
    assert yesterday < today == in_lake
    assert not (data_dir / "publish" / "warehouse.duckdb").exists()
    saved = data_dir / "state" / "prod" / "manifest.json"
    assert saved.read_bytes() == (data_dir / "publish" / "target" / "manifest.json").read_bytes()


# -- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture
def pg(platform) -> dict:
    if platform["pg"] is None:
        pytest.skip(f"no PostgreSQL server to start: {platform['no_pg']}")
    return {"env": platform["pg"], "url": platform["pg_url"]}


def _pg(pg: dict, query: str, *args) -> list[tuple]:
    with psycopg2.connect(pg["url"]) as con, con.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall() if cur.description else []


def _live_marts(pg: dict) -> dict[str, tuple]:
    """Each table of the live schemas: its identity (oid) and a hash of its rows in a fixed order."""
    tables = _pg(
        pg,
        "select c.oid, n.nspname, c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname like 'analytics%%' and n.nspname not like '%%\\_\\_staging' and c.relkind = 'r'",
    )
    marts = {}
    for oid, schema, table in tables:
        rows = sql.SQL("select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} as t").format(
            sql.Identifier(schema, table)
        )
        with psycopg2.connect(pg["url"]) as con, con.cursor() as cur:
            cur.execute(rows)
            marts[f"{schema}.{table}"] = (oid, cur.fetchone()[0])
    return marts


@pytest.mark.postgres  # loads a PostgreSQL warehouse and builds it twice
def test_postgres_failing_test_leaves_the_live_schemas_untouched(pg):
    bad_customer = _pg(pg, "select max(c_custkey) + 1000 from raw_shop.customer")[0][0]
    newest = "(select max(_dlt_load_id) from raw_shop.orders)"
    order, customer = _pg(
        pg, f"select o_orderkey, o_custkey from raw_shop.orders where _dlt_load_id = {newest} order by 1 limit 1"
    )[0]
    before = _live_marts(pg)
    assert "analytics.fct_orders" in before
    _pg(pg, "update raw_shop.orders set o_custkey = %s where o_orderkey = %s", bad_customer, order)
    try:
        proc = cli(pg["env"], "publish", "--fail-fast", check=False)
    finally:
        _pg(pg, "update raw_shop.orders set o_custkey = %s where o_orderkey = %s", customer, order)

    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1].startswith("error: publish stopped")
    assert _live_marts(pg) == before
    failing = _failure_lines(proc.stderr)
    assert failing, proc.stderr[-3000:]
    stored_rows = []
    for _test, count, relation, _where in failing:
        assert "__staging" in relation
        rows = _pg(pg, f"select * from {relation}")
        assert len(rows) == count
        stored_rows += rows
    assert any(bad_customer in row for row in stored_rows)


@pytest.mark.postgres  # loads a PostgreSQL warehouse and builds it twice
def test_postgres_passing_publish_swaps_the_schemas(pg):
    yesterday = _pg(pg, "select count(*) from analytics.fct_orders")[0][0]
    proc = cli(pg["env"], "publish")
    assert "published:" in proc.stdout
    today = _pg(pg, "select count(*) from analytics.fct_orders")[0][0]
    in_source = _pg(pg, "select count(distinct o_orderkey) from raw_shop.orders")[0][0]
    assert yesterday < today == in_source
    left = "select nspname from pg_namespace where nspname like '%%\\_\\_staging' or nspname like '%%\\_\\_previous'"
    assert _pg(pg, left) == []
