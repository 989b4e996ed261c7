"""Crash mid-transform (issue 13, scenario 2): SIGKILL inside `dbt build` and inside the
clickstream job, on both engines; the re-run gives what an uninterrupted run gives.

One SF 0.01 platform is built, then moved one simulated day on and ingested. A twin
copy of that DATA_DIR is processed and built without interruption: the reference. In
the other copy:

- the DuckDB job (`marketplace process clickstream --engine duckdb`) is killed once it
  has moved a part file of this run into an event-date partition of the processed zone
  while others still wait in its ``.staging-<run>`` folder; then run to the end;
- `dbt build` is killed inside the snapshot's transaction (its update of the current
  rows logged, its COMMIT not), run again and killed inside fct_orders' delete+insert,
  then run to the end, with the relations a kill between dbt's statements could leave
  (``<model>__dbt_backup``, ``<model>__dbt_tmp`` of a table model) planted before.

A third copy runs the Spark job (local mode), killed while its tasks write the
partitions, then run again. The processed lake zones must equal the twin's row for row,
read recursively (a part file left behind shows as extra rows), and the warehouse's
marts and snapshot must equal the twin's.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion import duck
from processing.clickstream import contract
from simulator import advance_sources, init_sources
from tests.conftest import BIN, cli, dbt, platform_env, platform_settings
from tests.e2e.test_shop_reconciliation import assert_same_marts
from tests.reliability.crashes import DbtStatement, dbt_relation_statement, kill_when

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZONES = ("processed", "quarantine", "audit")
SNAPSHOT = "snap_shop__customers"
# A table model: dbt builds it as <model>__dbt_tmp, swaps it in, commits, then drops the
# old table (renamed <model>__dbt_backup).
TABLE_MODEL = "fct_daily_cash_revenue"
# A kill can come a moment too late (the command ended, or dbt committed first): the
# state before it is put back and the kill tried again, at most this many times.
ATTEMPTS = 5
# The DuckDB job moves a day's few part files into place within a millisecond or two, so
# the kill between two moves misses more often than it hits; each try takes seconds.
SWAP_ATTEMPTS = 15


def timed(step, *args) -> float:
    started = time.monotonic()
    step(*args)
    return round(time.monotonic() - started, 1)


def process_args(engine: str) -> list[str]:
    return [str(BIN / "marketplace"), "process", "clickstream", "--engine", engine]


def kill_in(
    env: dict[str, str], name: str, args: list[str], watch, keep: tuple[str, ...], attempts: int = ATTEMPTS
) -> dict:
    """Kill ``args`` when ``watch(attempt env)()`` says so; a kill that came too late (the
    command ended first, or the watch's ``missed()`` says it got past the point)
    puts the ``keep`` paths of DATA_DIR back as they were and tries again."""
    data = Path(env["DATA_DIR"])
    saved = data.parent / f"saved-{name}"
    for path in keep:
        if (data / path).exists():
            copy(data / path, saved / path)
    for attempt in range(1, attempts + 1):
        run_env = {**env, "DBT_LOG_PATH": str(data / "killed-logs" / f"{name}-{attempt}")}
        under_way = watch(run_env)
        started = time.monotonic()
        killed = kill_when(run_env, args, under_way, data / f"killed-{name}-{attempt}.log")
        if killed and not getattr(under_way, "missed", lambda: False)():
            return {
                "attempts": attempt,
                "killed_after_s": round(time.monotonic() - started, 1),
                "watch": under_way,
                "saved": saved,
            }
        for path in keep:
            remove(data / path)
            if (saved / path).exists():
                copy(saved / path, data / path)
    pytest.fail(f"{name}: {attempts} runs got past the point before the kill")


def copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def partition_swapped(env: dict[str, str]):
    """The DuckDB job has moved a part file of this run into place; its ``.staging-<run>``
    folder still holds others."""
    processed = Path(contract.paths(str(Path(env["DATA_DIR"]) / "lake"))["processed"])
    since = time.time()

    def under_way() -> bool:
        if not any(processed.glob(".staging-*/event_date=*/*.parquet")):
            return False
        return any(p.stat().st_mtime > since for p in processed.glob("event_date=*/*.parquet"))

    return under_way


def spark_writing(env: dict[str, str]):
    """Spark's tasks are writing the partitions into the job's ``.spark-staging-<id>``."""
    processed = Path(contract.paths(str(Path(env["DATA_DIR"]) / "lake"))["processed"])
    return lambda: any(processed.glob(".spark-staging-*/**/part-*.parquet"))


def in_dbt_transaction(node: str, verb: str, relation: str):
    return lambda env: DbtStatement(Path(env["DBT_LOG_PATH"]), node, dbt_relation_statement(verb, relation))


LAKE_PATHS = ("lake/processed", "lake/quarantine/clickstream", "tmp")
WAREHOUSE_PATHS = ("warehouse.duckdb", "warehouse.duckdb.wal")


def zone_rows(data: Path, zone: str) -> str:
    """Every row of a zone, its folder read recursively (a stray part file shows up)."""
    columns = "* exclude (engine, processed_at)" if zone == "audit" else "*"
    folder = contract.paths(str(data / "lake"))[zone]
    return f"select {columns} from read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"


def read_warehouse(folder: Path, table: str | None = None) -> dict:
    """Rows and a hash of ``table``, and any relation dbt names ``*__dbt_*``, in a copy of
    the warehouse files of ``folder`` (the re-run must be the first to open the real ones)."""
    with tempfile.TemporaryDirectory() as scratch, duck.connect(copy_warehouse(folder, Path(scratch))) as con:
        rows, digest = (
            con.execute(f"select count(*), sum(hash(t)::hugeint) from {table} as t").fetchone() if table else (0, 0)
        )
        leftovers = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_name like '%\\_\\_dbt\\_%' escape '\\'"
        ).fetchall()
    return {"rows": rows, "digest": digest, "leftovers": sorted(r[0] for r in leftovers)}


def copy_warehouse(folder: Path, to: Path) -> str:
    for name in WAREHOUSE_PATHS:
        if (folder / name).exists():
            shutil.copy2(folder / name, to / name)
    return str(to / "warehouse.duckdb")


def plant_dbt_leftovers(data: Path) -> list[str]:
    """The relations of its own dbt leaves when killed between statements that do not share
    a transaction: ``<model>__dbt_backup`` (a kill between the swap's commit and the drop,
    a window of a few ms the log shows too late to hit) and ``<model>__dbt_tmp`` (a
    database whose DDL is not transactional). Made here, as the table model's old rows."""
    names = [f"main.{TABLE_MODEL}__dbt_backup", f"main.{TABLE_MODEL}__dbt_tmp"]
    with duck.connect(str(data / "warehouse.duckdb")) as con:
        for name in names:
            con.execute(f"create table {name} as select * from main.{TABLE_MODEL}")
    return names


def kill_dbt(env: dict[str, str], name: str, watch, table: str | None = None) -> dict:
    """`dbt build` killed at ``watch``'s point; ``table`` and dbt's own relations as they
    were before and after."""
    kill = kill_in(env, name, [str(BIN / "dbt"), "build"], watch, WAREHOUSE_PATHS)
    kill["before"] = read_warehouse(kill["saved"], table)
    kill["after"] = read_warehouse(Path(env["DATA_DIR"]), table)
    return kill


@pytest.fixture(scope="module")
def journey(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("crash-transform")
    data = root / "data"
    env = platform_env(data, SF="0.01")
    settings = platform_settings(data)
    init_sources(settings, date(1998, 7, 25))
    cli(env, "ingest", "all")
    cli(env, "process", "all")
    dbt(env, "build", "--exclude-resource-type", "test", "unit_test")
    advance_sources(settings, 1)
    cli(env, "ingest", "all")
    before = root / "before"
    shutil.copytree(data, before)
    twin = root / "twin"
    shutil.copytree(before, twin)
    twin_env = platform_env(twin, SF="0.01")
    uninterrupted = {
        "process duckdb": timed(cli, twin_env, "process", "clickstream", "--engine", "duckdb"),
        "build": timed(dbt, twin_env, "build"),
    }

    kills = {
        "duckdb swap": kill_in(
            env, "duckdb-swap", process_args("duckdb"), partition_swapped, LAKE_PATHS, attempts=SWAP_ATTEMPTS
        ),
    }
    reruns = {"process duckdb": timed(cli, env, "process", "clickstream", "--engine", "duckdb")}

    # One build killed three times, each time further on; then run to the end.
    snapshot = in_dbt_transaction(f"snapshot.marketplace.{SNAPSHOT}", "update", SNAPSHOT)
    kills["dbt snapshot"] = kill_dbt(env, "snapshot", snapshot, f"main_snapshots.{SNAPSHOT}")
    merge = in_dbt_transaction("model.marketplace.fct_orders", "delete from", "fct_orders")
    kills["dbt fct_orders"] = kill_dbt(env, "fct-orders", merge, "main.fct_orders")
    planted = plant_dbt_leftovers(data)
    reruns["build"] = timed(dbt, env, "build")
    reference = {
        name: read_warehouse(twin, kill_table)
        for name, kill_table in (("dbt snapshot", f"main_snapshots.{SNAPSHOT}"), ("dbt fct_orders", "main.fct_orders"))
    }
    figures = {
        "uninterrupted_s": uninterrupted,
        "rerun_s": reruns,
        "kills": {name: {k: kill[k] for k in ("attempts", "killed_after_s")} for name, kill in kills.items()},
    }
    print(json.dumps(figures))
    (root / "figures.json").write_text(json.dumps(figures, indent=1))
    return {
        "root": root,
        "planted": planted,
        "reference": reference,
        "data": data,
        "before": before,
        "twin": twin,
        "kills": kills,
        "uninterrupted": uninterrupted,
        "reruns": reruns,
    }


@pytest.fixture(scope="module")
def spark_journey(journey) -> dict:
    """The same day processed by Spark local, killed while it writes the partitions."""
    data = journey["root"] / "spark"
    shutil.copytree(journey["before"], data)
    env = platform_env(data, SF="0.01")
    kill = kill_in(env, "spark", process_args("spark"), spark_writing, LAKE_PATHS)
    staged = sorted(p.name for p in Path(contract.paths(str(data / "lake"))["processed"]).glob(".spark-staging-*"))
    rerun = timed(cli, env, "process", "clickstream", "--engine", "spark")
    figures = {"attempts": kill["attempts"], "killed_after_s": kill["killed_after_s"], "rerun_s": rerun}
    print(json.dumps({"spark": figures}))
    return {"data": data, "kill": kill, "staged_after_kill": staged, "rerun": rerun}


def assert_same_zone(reference: Path, data: Path, zone: str) -> int:
    a, b = zone_rows(reference, zone), zone_rows(data, zone)
    rows = duckdb.sql(f"select count(*) from ({a})").fetchone()[0]
    differ = duckdb.sql(f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))")
    assert differ.fetchone()[0] == 0, f"{zone}: the re-run's rows differ from the uninterrupted run's"
    return rows


def test_each_dbt_kill_hit_its_transaction(journey):
    for name in ("dbt snapshot", "dbt fct_orders"):
        watch = journey["kills"][name]["watch"]
        assert watch() and not watch.missed(), f"{name}: killed outside its transaction"


def test_dbt_leftovers_do_not_break_the_rerun(journey):
    """The re-run dropped the planted relations and built the model as the twin did
    (test_dbt_rerun_builds_the_uninterrupted_marts)."""
    assert journey["planted"]
    assert read_warehouse(journey["data"])["leftovers"] == []


@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_job_rerun_writes_the_uninterrupted_lake(journey, zone):
    assert assert_same_zone(journey["twin"], journey["data"], zone) > 0


def test_duckdb_job_rerun_leaves_the_same_files(journey):
    """As many part files in each partition as the twin wrote: none left twice, none in a
    staging folder. A part file's name carries its run's token, different in each run."""

    def files(data: Path) -> list[str]:
        lake = data / "lake"
        found = [*(lake / "processed").rglob("*"), *(lake / "quarantine" / contract.SOURCE).rglob("*")]
        names = (str(p.relative_to(lake)) for p in found if p.is_file())
        return sorted(re.sub(r"(part-[0-9a-f]{16})-[0-9a-f]{8}-", r"\1-<run>-", name) for name in names)

    assert files(journey["data"]) == files(journey["twin"])
    assert not list(Path(contract.paths(str(journey["data"] / "lake"))["processed"]).glob(".staging*"))


@pytest.mark.parametrize("name", ["dbt snapshot", "dbt fct_orders"])
def test_a_killed_transaction_left_nothing_in_the_warehouse(journey, name):
    """The table the killed transaction was changing reads as it did before that run (the
    WAL had nothing committed of it), though the day does change it; dbt left no relation."""
    kill = journey["kills"][name]
    before, after = kill["before"], kill["after"]
    assert after["rows"] > 0
    assert (after["rows"], after["digest"]) == (before["rows"], before["digest"])
    reference = journey["reference"][name]
    assert (reference["rows"], reference["digest"]) != (before["rows"], before["digest"]), "nothing to roll back"
    assert after["leftovers"] == [] == reference["leftovers"]


def test_dbt_rerun_builds_the_uninterrupted_marts(journey):
    counts = assert_same_marts(
        journey["twin"] / "warehouse.duckdb",
        str(journey["data"] / "warehouse.duckdb"),
        {"fct_orders", "fct_order_lines", "fct_daily_revenue", "dim_customers", "fct_sessions"},
    )
    assert counts["fct_orders"] > 0


def test_the_snapshot_equals_the_uninterrupted_one_with_one_current_row_per_key(journey):
    with duck.connect() as con:
        con.execute(f"attach '{journey['twin'] / 'warehouse.duckdb'}' as twin (read_only)")
        con.execute(f"attach '{journey['data'] / 'warehouse.duckdb'}' as wh (read_only)")
        a, b = f"select * from twin.main_snapshots.{SNAPSHOT}", f"select * from wh.main_snapshots.{SNAPSHOT}"
        differ = con.sql(f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))")
        assert differ.fetchone()[0] == 0
        keys, current, closed = con.execute(
            f"select count(distinct customer_id), count(*) filter (where dbt_valid_to is null),"
            f" count(*) filter (where dbt_valid_to is not null) from wh.main_snapshots.{SNAPSHOT}"
        ).fetchone()
        leftovers = con.execute(
            "select count(*) from information_schema.tables"
            " where table_catalog = 'wh' and table_name like '%\\_\\_dbt\\_%' escape '\\'"
        ).fetchone()[0]
    assert current == keys > 0
    assert closed > 0, "the day changed some customers: the snapshot closed their old versions"
    assert leftovers == 0


@pytest.mark.spark
def test_spark_rerun_drops_the_staging_of_the_killed_run(spark_journey):
    assert spark_journey["staged_after_kill"], "the kill came before Spark staged anything"
    processed = Path(contract.paths(str(spark_journey["data"] / "lake"))["processed"])
    assert not list(processed.glob(".spark-staging-*"))


@pytest.mark.spark
@pytest.mark.parametrize("zone", ZONES)
def test_spark_job_rerun_writes_the_uninterrupted_lake(journey, spark_journey, zone):
    assert assert_same_zone(journey["twin"], spark_journey["data"], zone) > 0
