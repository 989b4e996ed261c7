"""Malformed input (issue 13, scenario 6): damaged shop database files, non-Parquet lake files.

Each case loads a good shop, lets a day pass, damages the file, and runs
``marketplace ingest shop``: it must end in one line naming the file, land nothing in
the lake, and leave no package behind. With the good file back, the re-run loads every
row version exactly once.
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.pipelines.shop import pipeline
from ingestion.pipelines.shop.helpers import is_driver_panic
from ingestion.pipelines.shop.settings import TABLES
from processing.clickstream import duckdb_job
from simulator import advance_sources, init_sources
from tests.conftest import cli, dbt, platform_env, platform_settings
from tests.processing.clickstream.conftest import Landing, event

KEYS = {
    "region": "r_regionkey", "nation": "n_nationkey", "part": "p_partkey", "supplier": "s_suppkey",
    "partsupp": "ps_partkey, ps_suppkey", "customer": "c_custkey", "orders": "o_orderkey",
    "lineitem": "l_orderkey, l_linenumber",
}  # fmt: skip
PAGE = 4096


def damage_middle(good: bytes) -> bytes:
    """Overwrite 32 pages in the middle with random bytes; the header stays intact."""
    data = bytearray(good)
    first = len(good) // PAGE // 2
    garbage = random.Random(13).randbytes(32 * PAGE)
    data[first * PAGE : (first + 32) * PAGE] = garbage
    return bytes(data)


DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "damaged-middle": (damage_middle, "is damaged (database disk image is malformed)"),
    "truncated": (lambda good: good[: len(good) // 2], "is damaged (cut short: "),
    "not-a-database": (lambda good: b"order_id,total\n1,10.00\n" * 200, "is not an SQLite database"),
    "empty": (lambda good: b"", "is damaged (it is empty, 0 bytes)"),
}


@pytest.fixture(scope="module")
def shop_days(tmp_path_factory) -> tuple[Path, Path]:
    """Copies of the SF 0.01 shop database at its cutoff and one simulated day later."""
    root = tmp_path_factory.mktemp("shop-source")
    settings = platform_settings(root / "data")
    init_sources(settings, date(1998, 7, 25), only=())
    day0 = shutil.copyfile(shop_file(settings), root / "day0.db")
    advance_sources(settings, 1)
    day1 = shutil.copyfile(shop_file(settings), root / "day1.db")
    return day0, day1


def shop_file(settings) -> Path:
    return Path(settings.shop_db_url.removeprefix("sqlite:///"))


def lake_state(settings) -> dict[str, int]:
    """Every file under the shop's raw zone, with its size."""
    raw = Path(settings.zone_url("raw", "shop").removeprefix("file://"))
    return {str(f.relative_to(raw)): f.stat().st_size for f in raw.rglob("*") if f.is_file()}


def source_versions(*databases: Path) -> dict[str, int]:
    """Distinct row versions (key, updated_at) across the given shop database files."""
    con = duck.connect(":memory:", "sqlite_scanner")
    for i, db in enumerate(databases):
        con.execute(f"attach '{db}' as db{i} (type sqlite, read_only)")
    counts = {}
    for table in TABLES:
        union = " union ".join(f"select {KEYS[table]}, updated_at from db{i}.{table}" for i in range(len(databases)))
        counts[table] = con.execute(f"select count(*) from ({union})").fetchone()[0]
    con.close()
    return counts


def assert_lake_holds_exactly(settings, *databases: Path) -> int:
    """Every row version of the databases is in the lake, from a committed load, once. Returns rows checked."""
    expected = source_versions(*databases)
    con = duck.connect()
    raw = settings.zone_url("raw", "shop")
    committed = f"select load_id from read_json_auto('{raw}/_dlt_loads/*')"
    checked = 0
    for table in TABLES:
        rows = f"select * from read_parquet('{raw}/{table}/*.parquet') where _dlt_load_id in ({committed})"
        landed, versions = con.execute(
            f"select count(*), count(distinct ({KEYS[table]}, updated_at)) from ({rows})"
        ).fetchone()
        assert landed == versions, f"{table}: {landed - versions} row versions landed twice"
        assert versions == expected[table], f"{table}: {versions} versions in the lake, {expected[table]} in the source"
        checked += landed
    con.close()
    return checked


def place(db: Path, content: bytes) -> Path:
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(content)
    return db


@pytest.mark.parametrize("kind", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_shop_database_is_one_line_and_lands_nothing(kind, tmp_path, shop_days):
    day0, day1 = shop_days
    settings = platform_settings(tmp_path / "data")
    db = place(shop_file(settings), day0.read_bytes())
    pipeline.run(settings, progress=None)  # the lake holds the first day; then a day passes
    damage, message = DAMAGE[kind]
    place(db, damage(day1.read_bytes()))
    before = lake_state(settings)

    ingest_fails_in_one_line_and_lands_nothing(settings, db, message, before)

    place(db, day1.read_bytes())
    pipeline.run(settings, progress=None)
    assert_lake_holds_exactly(settings, day0, day1)


@pytest.mark.parametrize("bulk", [False, True], ids=["incremental", "bulk"])
@pytest.mark.parametrize("kind", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_shop_database_on_the_first_load_is_one_line_and_lands_nothing(kind, bulk, tmp_path, shop_days):
    """A first load skips the up-front page check (it reads every row anyway): damage in the
    middle is met by the extraction, and named in the same one line."""
    day0, _ = shop_days
    settings = platform_settings(tmp_path / "data")
    damage, message = DAMAGE[kind]
    db = place(shop_file(settings), damage(day0.read_bytes()))

    ingest_fails_in_one_line_and_lands_nothing(settings, db, message, before={}, bulk=bulk)

    place(db, day0.read_bytes())
    pipeline.run(settings, progress=None)
    assert_lake_holds_exactly(settings, day0)


def ingest_fails_in_one_line_and_lands_nothing(
    settings, db: Path, message: str, before: dict[str, int], bulk: bool = False
) -> None:
    proc = cli(platform_env(settings.data_dir), "ingest", "shop", *(["--bulk"] if bulk else []), check=False)

    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output and "panicked" not in output, output
    # A bulk load logs each table it copied before it meets the damage.
    errors = [line for line in proc.stderr.splitlines() if line.strip() and not re.match(r"\d\d:\d\d:\d\d INFO ", line)]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"error: the shop database {db} {message}"), errors[0]
    assert errors[0].endswith("nothing was loaded from it"), errors[0]
    assert lake_state(settings) == before, "the failed run changed the lake"
    assert not pipeline.make_pipeline(settings, progress=None).has_pending_data, "a package was left to load later"


@pytest.mark.parametrize("engine", ["duckdb", "connectorx"])
def test_a_file_damaged_after_the_check_fails_in_one_error_and_lands_nothing(tmp_path, shop_days, engine):
    """The extract engine's failure becomes a PlatformError; nothing lands.

    DuckDB raises an error inside dlt's extract step; connectorx's driver panics (a
    BaseException from Rust). The up-front check is skipped, as when the file is damaged
    while the run is under way; a first load reads every page, so the extraction meets the
    damage.
    """
    day0, _ = shop_days
    settings = platform_settings(tmp_path / "data", SHOP_EXTRACT_ENGINE=engine)
    db = place(shop_file(settings), damage_middle(day0.read_bytes()))

    with pytest.raises(PlatformError, match=r"is damaged \(database disk image is malformed\)") as caught:
        pipeline.extract_and_load(settings, pipeline.make_pipeline(settings, progress=None), {})

    chain, exc = [], caught.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    if engine == "connectorx":
        assert any(is_driver_panic(e) for e in chain), f"the driver did not panic: {chain}"
    else:
        extraction = [e for e in chain if isinstance(e, PipelineStepFailed) and e.step == "extract"]
        assert extraction, f"the extraction did not meet the damage: {chain}"
    assert not lake_state(settings), "nothing reached the lake"
    assert not pipeline.make_pipeline(settings, progress=None).has_pending_data

    place(db, day0.read_bytes())
    pipeline.run(settings, progress=None)
    assert_lake_holds_exactly(settings, day0)


# A lake file that is not Parquet: the clickstream job reads its own audit (the bookmark)
# and the partitions it deduplicates against.
BROKEN_LAKE_FILE = {
    "audit": ("processed/clickstream_audit", "move it and the batch's rejected lines ("),
    "partition": ("processed/clickstream/event_date=1998-03-02", "restore it from a backup of the lake"),
}


def lake_files(lake: Path) -> dict[str, bytes]:
    return {str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", BROKEN_LAKE_FILE, ids=list(BROKEN_LAKE_FILE))
def test_a_lake_file_that_is_not_parquet_is_named_and_nothing_is_written(tmp_path, kind):
    landing = Landing(tmp_path / "lake")
    first = [event("a", "1998-03-02T07:10:00.000Z"), event("b", "1998-03-02T07:20:00.000Z"), "not json"]
    landing.drop("1998-03-02 08", first, name="a")
    duckdb_job.run(str(landing.lake))
    folder, remedy = BROKEN_LAKE_FILE[kind]
    (broken,) = (landing.lake / folder).rglob("*.parquet")
    good = broken.read_bytes()
    broken.write_bytes(good[: len(good) // 2])
    second = [event("c", "1998-03-02T08:30:00.000Z"), event("a", "1998-03-02T07:10:00.000Z")]
    landing.drop("1998-03-02 09", second, name="b")
    before = lake_files(landing.lake)

    with pytest.raises(PlatformError) as caught:
        duckdb_job.run(str(landing.lake))

    message = str(caught.value)
    assert message.startswith(f"the lake file {broken} is not a readable Parquet file ("), message
    assert remedy in message and len(message.splitlines()) == 1, message
    assert lake_files(landing.lake) == before, "the failed run wrote to the lake"

    if kind == "audit":  # as the message says: the file and its batch's rejected lines
        batch = broken.parent.name
        assert f"{landing.lake}/quarantine/clickstream/{batch})" in message, message
        broken.unlink()
        shutil.rmtree(landing.lake / "quarantine" / "clickstream" / batch)
    else:
        broken.write_bytes(good)
    duckdb_job.run(str(landing.lake))
    lake = landing.lake
    events = duckdb.sql(f"select event_id from read_parquet('{lake}/processed/clickstream/**/*.parquet')").fetchall()
    assert sorted(e[0] for e in events) == ["a", "b", "c"], "each valid event once"
    delivered, processed, quarantined, duplicates = duckdb.sql(
        "select sum(delivered), sum(processed), sum(quarantined), sum(duplicates) "
        f"from read_parquet('{lake}/processed/clickstream_audit/**/*.parquet')"
    ).fetchone()
    assert delivered == len(first) + len(second) == processed + quarantined + duplicates
    assert (processed, quarantined, duplicates) == (3, 1, 1)
    rejected = duckdb.sql(f"select count(*) from read_parquet('{lake}/quarantine/clickstream/**/*.parquet')").fetchone()
    assert rejected == (quarantined,), "the quarantine zone holds each rejected line once"


def test_a_raw_file_that_is_not_parquet_fails_dbt_naming_it(built_platform, tmp_path):
    """A file of the raw zone cut short (a copy that stopped, a bad upload): the model that
    reads it fails with the file's path in dbt's error; the file made whole, it builds."""
    data = Path(shutil.copytree(built_platform["DATA_DIR"], tmp_path / "data", symlinks=True))
    env = platform_env(data, SF="0.01")
    broken = sorted((data / "lake" / "raw" / "payments" / "charges").glob("*.parquet"))[0]
    good = broken.read_bytes()
    broken.write_bytes(good[: len(good) // 2])

    proc = dbt(env, "run", "--select", "stg_payments__charges", check=False)
    assert proc.returncode != 0
    assert str(broken) in proc.stdout, proc.stdout[-3000:]

    broken.write_bytes(good)
    dbt(env, "run", "--select", "stg_payments__charges")
