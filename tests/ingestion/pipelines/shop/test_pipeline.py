"""The shop dlt pipeline: full first load, incremental re-runs, crash recovery."""

from __future__ import annotations

from datetime import date

import pytest

from ingestion import duck
from ingestion.pipelines.shop import pipeline
from ingestion.pipelines.shop.settings import TABLES
from simulator import advance_sources, init_sources
from simulator.context import SimContext
from tests.conftest import platform_settings

KEYS = {
    "region": "r_regionkey", "nation": "n_nationkey", "part": "p_partkey", "supplier": "s_suppkey",
    "partsupp": "ps_partkey, ps_suppkey", "customer": "c_custkey", "orders": "o_orderkey",
    "lineitem": "l_orderkey, l_linenumber",
}  # fmt: skip


def source_counts(settings, since: str | None = None) -> dict[str, int]:
    con = SimContext(settings).connect(read_only=True)
    where = f"where updated_at > timestamp '{since}'" if since else ""
    counts = {t: con.execute(f"select count(*) from shop.{t} {where}").fetchone()[0] for t in TABLES}
    con.close()
    return counts


def lake_versions(settings, table: str) -> tuple[int, int]:
    """(rows in the raw zone, distinct key+updated_at versions)."""
    con = duck.connect()
    path = f"{settings.zone_url('raw', 'shop', table)}/*.parquet"
    rows, versions = con.execute(
        f"select count(*), count(distinct ({KEYS[table]}, updated_at)) from read_parquet('{path}')"
    ).fetchone()
    con.close()
    return rows, versions


@pytest.fixture
def settings(tmp_path):
    settings = platform_settings(tmp_path)
    init_sources(settings, date(1998, 7, 25))
    return settings


def test_first_run_loads_every_row_then_reruns_load_only_changes(settings):
    first = pipeline.run(settings, progress=None)
    assert first["rows"] == source_counts(settings)

    assert sum(pipeline.run(settings, progress=None)["rows"].values()) == 0, "nothing changed, nothing loaded"

    advance_sources(settings, 2)
    third = pipeline.run(settings, progress=None)
    changed = {t: n for t, n in source_counts(settings, since="1998-07-25 23:59:59").items() if n}
    assert {t: n for t, n in third["rows"].items() if n} == changed
    con = SimContext(settings).connect(read_only=True)
    new_orders = con.execute("select count(*) from shop.orders where o_orderdate > date '1998-07-25'").fetchone()[0]
    con.close()
    assert changed["orders"] > new_orders > 0, "changed orders include status changes, not only new orders"
    for table in TABLES:
        rows, versions = lake_versions(settings, table)
        assert rows == versions, f"{table}: a row version landed twice"


def test_every_row_carries_a_committed_load_id(settings):
    result = pipeline.run(settings, progress=None)
    con = duck.connect()
    raw = settings.zone_url("raw", "shop")
    loads = {r[0] for r in con.execute(f"select load_id from read_json_auto('{raw}/_dlt_loads/*')").fetchall()}
    query = f"select distinct _dlt_load_id from read_parquet('{raw}/orders/*.parquet')"
    row_loads = {r[0] for r in con.execute(query).fetchall()}
    con.close()
    assert row_loads == set(result["load_ids"]) <= loads


def test_a_run_interrupted_after_extraction_is_finished_by_the_next_run(settings):
    initial = source_counts(settings)
    pipe = pipeline.make_pipeline(settings, progress=None)
    pipe.extract(pipeline.make_source(settings), loader_file_format="parquet")
    pipe.normalize()
    # ...the process dies here: the package is normalized but never loaded.
    assert pipe.has_pending_data
    assert not (settings.data_dir / "lake" / "raw" / "shop" / "orders").exists()

    advance_sources(settings, 1)
    pipeline.run(settings, progress=None)
    assert not pipeline.make_pipeline(settings, progress=None).has_pending_data
    changed = source_counts(settings, since="1998-07-25 23:59:59")
    for table in TABLES:
        rows, versions = lake_versions(settings, table)
        assert rows == versions, f"{table}: duplicates after recovery"
        assert versions == initial[table] + changed[table], f"{table}: versions missing after recovery"


@pytest.mark.postgres
def test_postgres_shop_lands_the_same_rows_as_sqlite(tmp_path, postgres_shop_url):
    on_pg = platform_settings(tmp_path / "pg", SHOP_DB_URL=postgres_shop_url)
    on_sqlite = platform_settings(tmp_path / "sqlite")
    for settings in (on_pg, on_sqlite):
        init_sources(settings, date(1998, 7, 28), only=())
        pipeline.run(settings, progress=None)
        advance_sources(settings, 2)
        pipeline.run(settings, progress=None)
    con = duck.connect()
    for table in TABLES:
        # Postgres delivers decimals, SQLite doubles: compare as the staging layer casts them.
        selects = [
            f"select {KEYS[table]}, updated_at from read_parquet('{s.zone_url('raw', 'shop', table)}/*.parquet')"
            for s in (on_pg, on_sqlite)
        ]
        diff = con.execute(f"select count(*) from ({selects[0]} except all {selects[1]})").fetchone()[0]
        rows = con.execute(f"select count(*) from ({selects[0]})").fetchone()[0]
        assert rows > 0 and diff == 0, f"{table}: {diff} of {rows} row versions differ"
    con.close()


@pytest.mark.parametrize("first_load", ["incremental", "bulk"])
def test_only_a_run_that_resumes_from_a_cursor_reads_every_page_first(settings, monkeypatch, first_load):
    """SQLite's page check is for runs that read only changed rows: a first load, incremental
    or bulk, reads every row, so it skips the check; every run after it pays for it."""
    from ingestion.pipelines.shop import bulk, helpers

    checks = []
    real = helpers.check_sqlite_file

    def spy(path, every_page=None):
        checks.append(every_page is not False and path.stat().st_size <= helpers.PAGE_CHECK_MAX_BYTES)
        real(path, every_page)

    monkeypatch.setattr(helpers, "check_sqlite_file", spy)
    monkeypatch.setattr(pipeline, "check_sqlite_file", spy)

    (pipeline.run if first_load == "incremental" else bulk.run)(settings, progress=None)
    assert checks == [False], "a first load read the pages before reading every row"
    checks.clear()
    advance_sources(settings, 1)
    pipeline.run(settings, progress=None)
    assert checks == [False, True], "the incremental run did not check the pages before reading the changes"
