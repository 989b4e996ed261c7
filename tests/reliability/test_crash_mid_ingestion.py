"""Crash mid-ingestion (issue 13, scenario 1): SIGKILL during extract, normalize and load.

One SF 0.01 platform lives through three simulated days. On each day every pipeline
(shop, payments, partners) is started as `marketplace ingest <name>`, its process group
is killed the moment dlt's working folder shows the phase under way, and the pipeline is
run again. At the end the lake holds every source row version once, from committed loads
only; no load id in the data is missing from `_dlt_loads`; and after `dbt build` the
marts reconcile with the sources as in the e2e tests (orders, lines, extended price and
net revenue per day; payment totals; partner rows). Because each day's run follows the
crash and re-run of the day before, a cursor that had moved past unloaded data would
show as missing rows.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import dlt
import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion import duck
from ingestion.pipelines import destinations
from ingestion.pipelines.clickstream import pipeline as kinesis_consumer
from ingestion.pipelines.payments import payments_api
from ingestion.pipelines.payments import pipeline as payments_pipeline
from ingestion.pipelines.shop import pipeline as shop_pipeline
from marketplace import demo
from processing.clickstream import duckdb_job
from simulator import advance_sources, init_sources, payments
from simulator import payments_api as local_api
from tests.conftest import BIN, cli, dbt, platform_env, platform_settings
from tests.e2e.test_shop_reconciliation import reconcile
from tests.ingestion.pipelines.clickstream.test_kinesis import _landed_lines as landed_lines
from tests.ingestion.pipelines.clickstream.test_kinesis import _settings as kinesis_settings
from tests.ingestion.pipelines.clickstream.test_kinesis import _simulate as kinesis_simulate
from tests.ingestion.pipelines.clickstream.test_kinesis import moto_kinesis  # noqa: F401 (a fixture)
from tests.reliability.crashes import PHASES, kill_during, start
from tests.reliability.test_duplicate_delivery import delivered_partner_rows
from tests.reliability.test_malformed_input import assert_lake_holds_exactly, shop_file

pytestmark = pytest.mark.e2e
# the journey: nine killed runs over three simulated days, minutes of its own
slow = pytest.mark.slow

PIPELINES = ("shop", "payments", "partners")
MODELS = (
    "+fct_orders +fct_order_lines +fct_daily_revenue +fct_daily_cash_revenue +fct_payment_reconciliation "
    "+fct_supplier_stock path:models/staging/partners"
)


def lake_loads(settings, name: str, *, read: bool = False) -> tuple[set[str], set[str]]:
    """(load ids of the pipeline's data files, load ids committed in ``_dlt_loads``).

    The data files' load ids come from their names (dlt's layout, ``<table>/<load id>.<file
    id>.<ext>``): a kill in the load step can leave a file half copied, which no reader
    opens. With ``read``, from the rows' ``_dlt_load_id`` instead, which also proves every
    file whole.
    """
    raw = Path(settings.zone_url("raw", name))
    if not raw.exists():
        return set(), set()
    con = duck.connect()
    committed = set()
    if any(raw.glob("_dlt_loads/*")):
        query = f"select load_id from read_json_auto('{raw}/_dlt_loads/*') where status = 0"
        committed = {r[0] for r in con.execute(query).fetchall()}
    in_data = set()
    for table in (p for p in raw.iterdir() if p.is_dir() and not p.name.startswith("_dlt")):
        files = sorted(table.glob("*.parquet"))
        if files and read:
            query = f"select distinct _dlt_load_id from read_parquet('{table}/*.parquet')"
            in_data |= {r[0] for r in con.execute(query).fetchall()}
        elif files:
            in_data |= {f.name.rsplit(".", 2)[0] for f in files}
    con.close()
    return in_data, committed


def half_written(settings, name: str) -> list[str]:
    """The pipeline's lake files that are not whole Parquet files (a copy the kill cut short)."""
    raw = Path(settings.zone_url("raw", name))
    broken = []
    with duck.connect() as con:
        for path in sorted(raw.glob("*/*.parquet")):
            try:
                con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
            except duckdb.Error:
                broken.append(path.name)
    return broken


@pytest.fixture(scope="module")
def journey(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("crash")
    env = platform_env(root / "data", SF="0.01")
    settings = platform_settings(root / "data")
    init_sources(settings, date(1998, 7, 25))
    days, crashes = [], []
    for day, phase in enumerate(PHASES):
        if day:
            advance_sources(settings, 1)
        days.append(Path(shutil.copyfile(shop_file(settings), root / f"shop-day{day}.db")))
        for name in PIPELINES:
            pending = kill_during(env, name, phase)
            in_data, committed = lake_loads(settings, name)
            cut_short = half_written(settings, name)
            started = time.monotonic()
            demo.run_pipeline(name, settings)
            rerun = time.monotonic() - started
            crashes.append(
                {
                    "pipeline": name,
                    "phase": phase,
                    "day": day,
                    "pending": pending,
                    "uncommitted_in_lake": sorted(in_data - committed),
                    "half_written": cut_short,
                    "rerun_s": rerun,
                }
            )
    (root / "crashes.json").write_text(json.dumps(crashes, indent=1))
    dbt(env, "build", "--indirect-selection", "cautious", "--select", *MODELS.split())
    return {"env": env, "settings": settings, "days": days, "crashes": crashes}


@slow
def test_each_kill_hit_its_phase(journey):
    for crash in journey["crashes"]:
        if crash["phase"] == "extract":
            assert not crash["pending"], f"{crash}: an extraction killed midway leaves no package"
            assert not crash["uncommitted_in_lake"], crash
        else:
            assert len(crash["pending"]) == 1, f"{crash}: the extracted package waits for the next run"
        cut_short = {name.rsplit(".", 2)[0] for name in crash["half_written"]}
        assert cut_short <= set(crash["pending"]), f"{crash}: a file cut short belongs to no pending package"
        if crash["phase"] == "load" and crash["pipeline"] == "shop":
            assert crash["uncommitted_in_lake"] == crash["pending"], f"{crash}: no file landed before the kill"


@slow
def test_no_load_id_in_the_lake_is_uncommitted(journey):
    for name in PIPELINES:
        assert not half_written(journey["settings"], name), f"{name}: the re-runs left a file half written"
        in_data, committed = lake_loads(journey["settings"], name, read=True)
        assert in_data, f"{name}: nothing landed"
        assert in_data <= committed, f"{name}: orphan load ids {in_data - committed}"


@slow
def test_the_shop_lake_holds_every_row_version_once(journey):
    assert assert_lake_holds_exactly(journey["settings"], *journey["days"]) > 0


@slow
def test_shop_marts_reconcile_with_the_source(journey):
    assert reconcile(journey["env"]) > 2000


@slow
def test_payments_marts_equal_the_api_totals(journey):
    settings = journey["settings"]
    totals = payments.totals(payments.store_path(settings.sources_dir))
    raw = settings.zone_url("raw", "payments")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cash = con.execute(
            "select sum(charged_amount) * 100, sum(refunded_amount) * 100 from fct_daily_cash_revenue"
        ).fetchone()
        landed, versions = con.execute(
            f"select count(*), count(distinct (id, updated)) from read_parquet('{raw}/charges/*.parquet')"
        ).fetchone()
        staged = con.execute("select count(*) from stg_payments__charges").fetchone()[0]
    assert tuple(int(v) for v in cash) == (totals["charged_amount"], totals["refunded_amount"])
    assert landed == versions, f"{landed - versions} charge versions landed twice"
    assert staged == totals["charge_count"]


@slow
def test_partner_rows_equal_loaded_plus_quarantined(journey):
    settings = journey["settings"]
    delivered = delivered_partner_rows(settings)
    raw = settings.zone_url("raw", "partners")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        loaded, reports, distinct, quarantined, recorded = con.execute(
            f"select (select count(*) from read_parquet('{raw}/partner_inventory/*.parquet')),"
            " (select count(*) from stg_partners__stock_reports),"
            " (select count(distinct (supplier_id, part_id, report_date)) from stg_partners__stock_reports),"
            " (select count(*) from stg_partners__rejected_rows),"
            " (select sum(data_row_count) from stg_partners__files)"
        ).fetchone()
    assert reports == distinct, "a partner report landed twice"
    assert loaded + quarantined == delivered == recorded


@slow
def test_the_lock_went_with_the_killed_runs(journey):
    assert "is free" in cli(journey["env"], "lock").stdout


def test_a_package_committed_halfway_is_loaded_once(tmp_path):
    """The state a kill between dlt's two commit steps of normalize leaves, made by dlt itself:
    the package normalized (``load/normalized/<id>``) and its extracted copy still there.
    dlt alone fails on it at every later run; the pipeline removes the copy and loads once."""
    settings = platform_settings(tmp_path / "data")
    init_sources(settings, date(1998, 7, 25), only=("payments",))
    store = payments.store_path(settings.sources_dir)
    pipeline = dlt.pipeline(
        **destinations.for_pipeline("payments", settings).pipeline_kwargs("payments"),
        pipelines_dir=str(settings.pipelines_dir),
    )
    with local_api.running(store, local_api.LOCAL_TOKEN) as server:
        source = payments_api(base_url=server.url, token=local_api.LOCAL_TOKEN)
        pipeline.extract(source, loader_file_format=destinations.file_format(pipeline, items="objects"))
        (extracted,) = Path(pipeline.working_dir).glob("normalize/extracted/*")
        kept = shutil.copytree(extracted, tmp_path / "extracted")
        pipeline.normalize()
        shutil.copytree(kept, extracted)  # the second commit step undone: the kill's state
        with pytest.raises(PipelineStepFailed, match="Directory not empty"):
            pipeline.normalize()  # what dlt alone does with it, on every run

        payments_pipeline.run(settings, base_url=server.url, token=local_api.LOCAL_TOKEN, progress="log")

    totals = payments.totals(store)
    raw = settings.zone_url("raw", "payments")
    with duck.connect() as con:
        landed, versions = con.execute(
            f"select count(*), count(distinct (id, updated)) from read_parquet('{raw}/charges/*.parquet')"
        ).fetchone()
    assert landed == versions == totals["charge_count"]
    in_data, committed = lake_loads(settings, "payments", read=True)
    assert in_data == committed == {extracted.name}


def test_a_shop_package_committed_halfway_is_loaded_once(tmp_path):
    """The same half-committed state in the shop pipeline: the re-run loads every row version once."""
    settings = platform_settings(tmp_path / "data")
    init_sources(settings, date(1998, 7, 25), only=())
    pipeline = shop_pipeline.make_pipeline(settings, progress=None)
    pipeline.extract(shop_pipeline.make_source(settings), loader_file_format=destinations.file_format(pipeline))
    (extracted,) = Path(pipeline.working_dir).glob("normalize/extracted/*")
    kept = shutil.copytree(extracted, tmp_path / "extracted")
    pipeline.normalize()
    shutil.copytree(kept, extracted)  # the kill's state: normalized, and the extracted copy still there
    with pytest.raises(PipelineStepFailed, match="Directory not empty"):
        pipeline.normalize()

    shop_pipeline.run(settings, progress=None)

    assert assert_lake_holds_exactly(settings, shop_file(settings)) > 0
    in_data, committed = lake_loads(settings, "shop", read=True)
    # the killed run's rows, loaded once; the re-run found nothing new (its load is committed, empty)
    assert in_data == {extracted.name}
    assert in_data < committed


@slow
@pytest.mark.usefixtures("moto_kinesis")
def test_a_killed_kinesis_consumer_lands_every_record_once(tmp_path):
    """The clickstream consumer (`ingest clickstream` in Kinesis mode, two shards) SIGKILLed
    the moment its first landing file appears, before or after that batch's checkpoint:
    the re-run lands every record of the stream once (a batch landed before its checkpoint
    lands again under the same name, the same bytes), and the job stores each event once."""
    ctx = kinesis_simulate(tmp_path / "data")
    lake = Path(ctx.settings.lake_url)
    landing = lake / "landing" / "clickstream"
    env = platform_env(tmp_path / "data", SF="0.01", CLICKSTREAM_DELIVERY="kinesis")
    proc = start(env, str(BIN / "marketplace"), "ingest", "clickstream", stderr=subprocess.STDOUT)
    while proc.poll() is None and not any(landing.rglob("*.gz")):
        time.sleep(0.002)
    assert proc.poll() is None, f"the consumer ended before its first file: {proc.stdout.read()}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    cli(env, "ingest", "clickstream")

    # every record of the stream, read once more from the start by a consumer of its own
    twin = kinesis_settings(tmp_path / "twin")
    kinesis_consumer.run(twin)
    expected = landed_lines(Path(twin.lake_url))
    assert landed_lines(lake) == expected, "records lost or landed twice"
    summary = duckdb_job.run(str(lake))
    assert summary["delivered"] == sum(expected.values())
    assert summary["delivered"] == summary["processed"] + summary["quarantined"] + summary["duplicates"]
    stored, distinct = duckdb.sql(
        f"select count(*), count(distinct event_id) from read_parquet('{lake}/processed/clickstream/*/*.parquet')"
    ).fetchone()
    assert stored == distinct == summary["processed"] > 0
