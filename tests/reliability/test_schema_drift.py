"""Schema drift per source (issue 13, scenario 5): a new column, a type change, a dropped
column and a renamed column, in the shop database, the payments API, the partner files
and the clickstream events.

Each case loads a small hand-made source, drifts it, and loads again. Behaviour by
source (docs/reliability.md, "Schema drift"): a new column evolves where the source is
loaded by shape (shop, payments) and is refused by an explicit contract (partners: one
failure; clickstream: not carried past landing); a type change, dropped or renamed
column is one clear failure with nothing loaded (shop, payments, partners' header) or a
quarantined row (partners' values, clickstream events). In every case what earlier
loads wrote stays byte for byte (the clickstream's date partition row for row).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import duckdb
import pytest

from ingestion.errors import PlatformError
from ingestion.pipelines.partners import pipeline as partners_pipeline
from ingestion.pipelines.payments import pipeline as payments_pipeline
from ingestion.pipelines.shop import pipeline as shop_pipeline
from processing.clickstream import contract, duckdb_job
from simulator import payments, payments_api, shop
from tests.conftest import dbt, platform_env, platform_settings
from tests.processing.clickstream.conftest import Landing, event

CHANGES = ("new", "type", "drop", "rename")


def lake_files(settings, zone: str, source: str) -> dict[str, str]:
    """Every file under ``<zone>/<source>`` with its SHA-256."""
    root = Path(settings.zone_url(zone, source))
    return {
        str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest() for f in root.rglob("*") if f.is_file()
    }


def assert_kept(before: dict[str, str], after: dict[str, str]) -> None:
    changed = sorted(name for name, sha in before.items() if after.get(name) != sha)
    assert not changed, f"earlier loads' files changed or went: {changed}"


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert len(message.splitlines()) == 1, message
    return message


# -- shop database (dlt sql_table) ---------------------------------------------------------

SAMPLE = {shop.KEY: 1, shop.MONEY: 10.5, shop.INT: 3, shop.TEXT: "x", shop.DATE_: "1998-01-02"}
CUSTOMER = [*shop.TABLES["customer"], "updated_at"]


def tiny_shop(settings) -> sqlite3.Connection:
    """The simulator's shop tables (same DDL), one row each."""
    db = Path(settings.shop_db_url.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db)
    for statement in shop._ddl("sqlite"):
        con.execute(statement)
    for table, columns in shop.TABLES.items():
        names = [*columns, "updated_at"]
        values = [SAMPLE[kind] for kind in columns.values()] + ["1998-07-01 00:00:00"]
        con.execute(f"insert into {table} ({', '.join(names)}) values ({', '.join('?' * len(names))})", values)
    con.commit()
    return con


def add_customer(con: sqlite3.Connection, columns: list[str], **values) -> None:
    """Customer 2, a copy of customer 1 changed a day later, with ``values`` over it."""
    row = {name: name for name in columns} | {"c_custkey": "2", "updated_at": "'1998-07-02 00:00:00'"}
    row |= {name: repr(value) for name, value in values.items()}
    con.execute(f"insert into customer ({', '.join(row)}) select {', '.join(row.values())} from customer")


def retype_customer(con: sqlite3.Connection, column: str, declared: str) -> None:
    """SQLite cannot alter a column's type: rebuild the table with the new one, rows copied."""
    (ddl,) = [s for s in shop._ddl("sqlite") if s.startswith("CREATE TABLE customer ")]
    old = next(part for part in ddl.split(", ") if part.startswith(f"{column} "))
    con.execute("alter table customer rename to customer_before")
    con.execute(ddl.replace(old, f"{column} {declared} NOT NULL"))
    con.execute("insert into customer select * from customer_before")
    con.execute("drop table customer_before")


def drift_shop(change: str, con: sqlite3.Connection) -> None:
    if change == "new":
        con.execute("alter table customer add column c_segment_score integer")
        add_customer(con, CUSTOMER, c_segment_score=7)
    elif change == "type":
        retype_customer(con, "c_nationkey", "TEXT")
        add_customer(con, CUSTOMER, c_nationkey="DE")
    elif change == "drop":
        con.execute("alter table customer drop column c_phone")
    else:
        con.execute("alter table customer rename column c_phone to c_phone_number")
    con.commit()


SHOP_REFUSAL = {
    "type": "table customer column c_nationkey changed its type: the lake holds it as bigint, the database now gives"
    " text",
    "drop": "table customer has no column c_phone",
    "rename": "table customer has no column c_phone",
}


@pytest.mark.parametrize("change", CHANGES)
def test_shop(change, tmp_path):
    settings = platform_settings(tmp_path / "data")
    con = tiny_shop(settings)
    shop_pipeline.run(settings, progress=None)
    before = lake_files(settings, "raw", "shop")
    drift_shop(change, con)

    if change == "new":
        rows = shop_pipeline.run(settings, progress=None)["rows"]
        assert rows["customer"] == 1
        raw = settings.zone_url("raw", "shop", "customer")
        new = duckdb.sql(f"select c_custkey, c_segment_score from read_parquet('{raw}/*.parquet', union_by_name=true)")
        assert sorted(new.fetchall()) == [(1, None), (2, 7)], "the new column lands from the drifted load on"
    else:
        with pytest.raises(PlatformError) as caught:
            shop_pipeline.run(settings, progress=None)
        message = one_line(caught.value)
        assert message.startswith(f"shop source sqlite:///{settings.sources_dir}/shop.db: "), message
        assert SHOP_REFUSAL[change] in message, message
        assert lake_files(settings, "raw", "shop") == before, "a refused load wrote to the lake"
        assert not shop_pipeline.make_pipeline(settings, progress=None).has_pending_data
    if change == "type":  # the source fixed: the withheld customer loads, with the lake's type
        retype_customer(con, "c_nationkey", "INTEGER")
        con.execute("update customer set c_nationkey = 3 where c_custkey = 2")
        con.commit()
        assert shop_pipeline.run(settings, progress=None)["rows"]["customer"] == 1
        raw = settings.zone_url("raw", "shop", "customer")
        keys = duckdb.sql(f"select c_custkey, c_nationkey from read_parquet('{raw}/*.parquet')").fetchall()
        assert sorted(keys) == [(1, 1), (2, 3)]
    assert_kept(before, lake_files(settings, "raw", "shop"))


def test_shop_optional_column_dropped_lands_as_null(tmp_path):
    """The documented exception to "a dropped column fails": the shop's optional attributes."""
    settings = platform_settings(tmp_path / "data")
    con = tiny_shop(settings)
    shop_pipeline.run(settings, progress=None)
    before = lake_files(settings, "raw", "shop")
    con.execute("alter table customer drop column c_loyalty_tier")
    add_customer(con, [c for c in CUSTOMER if c != "c_loyalty_tier"])
    con.commit()
    assert shop_pipeline.run(settings, progress=None)["rows"]["customer"] == 1
    raw = settings.zone_url("raw", "shop", "customer")
    tiers = duckdb.sql(f"select c_custkey, c_loyalty_tier from read_parquet('{raw}/*.parquet') order by 1")
    assert tiers.fetchall() == [(1, "x"), (2, None)]
    assert_kept(before, lake_files(settings, "raw", "shop"))


# -- payments REST API (dlt rest_api) -------------------------------------------------------


def charge_drift(change: str, record: dict) -> dict:
    if change == "new":
        record["risk_score"] = 42
    elif change == "type":
        record["amount"] = f"{record['amount'] / 100:.2f}"  # cents to a decimal string
    elif change == "drop":
        del record["currency"]
    else:
        record["amount_cents"] = record.pop("amount")
    return record


PAYMENTS_REFUSAL = {
    "type": "field amount is str '10.01', not int",
    "drop": "field currency is missing (dropped or renamed?",
    "rename": "field amount is missing (dropped or renamed? the record has amount_cents, ",
}


@pytest.fixture
def payments_store(tmp_path, monkeypatch) -> Path:
    """The simulated provider's store with two charges and a refund."""
    for name in ("SOURCES__PAYMENTS__BASE_URL", "SOURCES__PAYMENTS__TOKEN"):
        monkeypatch.delenv(name, raising=False)
    store = tmp_path / "payments.db"
    con = payments.connect_store(store)
    for i in (1, 2):
        add_charge(store, i, updated=100)
    con.execute("insert into refunds values ('re_1', 'ch_1', 10, 'requested_by_customer', 'succeeded', 100, 'd')")
    con.close()
    return store


def add_charge(store: Path, i: int, updated: int) -> None:
    con = payments.connect_store(store)
    row = (f"ch_{i}", i, f"cus_{i}", 1000 + i, 0, "usd", "succeeded", None, updated, updated, "d")
    con.execute("insert into charges values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    con.close()


def serve_drifted_charges(monkeypatch, change: str):
    """Make the simulated API serve its charges drifted; returns the undrifted renderer."""
    served = payments_api.render

    def drifted(table: str, row) -> dict:
        record = served(table, row)
        return charge_drift(change, record) if table == "charges" else record

    monkeypatch.setattr(payments_api, "render", drifted)
    return served


def load_payments(settings, store: Path) -> dict:
    with payments_api.running(store) as server:
        return payments_pipeline.run(settings, server.url, payments_api.LOCAL_TOKEN)


@pytest.mark.parametrize("change", CHANGES)
def test_payments(change, tmp_path, payments_store, monkeypatch):
    settings = platform_settings(tmp_path / "data")
    load_payments(settings, payments_store)
    before = lake_files(settings, "raw", "payments")
    served = serve_drifted_charges(monkeypatch, change)
    add_charge(payments_store, 3, updated=200)

    if change == "new":
        assert load_payments(settings, payments_store)["rows"] == {"charges": 1}
        raw = settings.zone_url("raw", "payments", "charges")
        scores = duckdb.sql(f"select id, risk_score from read_parquet('{raw}/*.parquet', union_by_name=true)")
        assert sorted(scores.fetchall()) == [("ch_1", None), ("ch_2", None), ("ch_3", 42)]
    else:
        with pytest.raises(PlatformError) as caught:
            load_payments(settings, payments_store)
        message = one_line(caught.value)
        assert message.startswith("payments pipeline failed at step extract: payments API charges record ch_"), message
        assert PAYMENTS_REFUSAL[change] in message and message.endswith("nothing of this run was loaded"), message
        assert lake_files(settings, "raw", "payments") == before, "a refused load wrote to the lake"
        # The API fixed, the next run loads what the refused one would have, once.
        monkeypatch.setattr(payments_api, "render", served)
        assert load_payments(settings, payments_store)["rows"]["charges"] == 1
        raw = settings.zone_url("raw", "payments", "charges")
        ids = duckdb.sql(f"select id, count(*) from read_parquet('{raw}/*.parquet') group by 1 order by 1").fetchall()
        assert ids == [("ch_1", 1), ("ch_2", 1), ("ch_3", 1)]
    assert_kept(before, lake_files(settings, "raw", "payments"))


# -- partner CSV files (explicit contract, dlt filesystem) ----------------------------------


def good(*parts: int) -> str:
    return "part_id,qty_available,unit_price\n" + "".join(f"{p},{10 * p},{p}.50\n" for p in parts)


PARTNER_DRIFT = {
    "new": ("part_id,qty_available,unit_price,warehouse\n3,30,6.00,north\n", "unknown warehouse"),
    "type": ("part_id,qty_available,unit_price\n3,30,6.00 EUR\n4,40,7.00\n", None),
    "drop": ("part_id,qty_available\n3,30\n", "missing unit_price"),
    "rename": ("part_id,quantity,unit_price\n3,30,6.00\n", "missing qty_available; unknown quantity"),
}


def drop_file(settings, relative: str, text: str) -> None:
    path = Path(settings.zone_url("landing", "partners")) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def partner_rows(settings) -> list[tuple]:
    raw = settings.zone_url("raw", "partners", "partner_inventory")
    return duckdb.sql(
        f"select partner, part_id, unit_price from read_parquet('{raw}/*.parquet') order by all"
    ).fetchall()


@pytest.mark.parametrize("change", CHANGES)
def test_partners(change, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    settings = platform_settings(tmp_path / "data")
    drop_file(settings, "acme/1998-07-01.csv", good(1, 2))
    partners_pipeline.run(settings)
    before = {zone: lake_files(settings, zone, "partners") for zone in ("raw", "quarantine")}
    text, refusal = PARTNER_DRIFT[change]
    drop_file(settings, "acme/1998-07-02.csv", text)
    drop_file(settings, "globex/1998-07-02.csv", good(5, 6))  # another partner's good file, same batch

    if refusal is None:  # a value of another type: that row is quarantined, the rest load
        summary = partners_pipeline.run(settings)
        assert summary["rows"]["partner_inventory"] == 3 and summary["quarantined"]["rejected_rows"] == 1
        rejected = settings.zone_url("quarantine", "partners", "rejected_rows")
        reasons = duckdb.sql(f"select source_file, source_line, reason from read_parquet('{rejected}/*.parquet')")
        assert reasons.fetchall() == [("acme/1998-07-02.csv", 2, "unit_price '6.00 EUR' is not a positive number")]
    else:
        with pytest.raises(PlatformError) as caught:
            partners_pipeline.run(settings)
        message = one_line(caught.value)
        assert message.startswith("partner file acme/1998-07-02.csv breaks the feed contract: "), message
        assert refusal in message, message
        assert {zone: lake_files(settings, zone, "partners") for zone in before} == before, "the refused run wrote"
        drop_file(settings, "acme/1998-07-02.csv", good(3, 4))  # the partner re-sends it to the contract
        assert partners_pipeline.run(settings)["rows"]["partner_inventory"] == 4
        assert len(partner_rows(settings)) == 6, "every good row of every file once"
    for zone, files in before.items():
        assert_kept(files, lake_files(settings, zone, "partners"))


# -- clickstream JSON events (processing job, explicit event contract) ---------------------


def click_drift(change: str, body: dict) -> dict:
    if change == "new":
        body["referrer"] = "https://partner.example/deal"
    elif change == "type":
        body["customer_id"] = f"cust-{body['customer_id']}"
    elif change == "drop":
        del body["visitor_id"]
    else:
        body["timestamp"] = body.pop("event_at")
    return body


def processed_rows(lake: Path) -> list[tuple]:
    return duckdb.sql(
        f"select * from read_parquet('{lake}/processed/clickstream/**/*.parquet', hive_partitioning=true) order by all"
    ).fetchall()


@pytest.mark.parametrize("change", CHANGES)
def test_clickstream(change, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    landing = Landing(tmp_path / "lake")
    landing.drop("1998-03-02 08", [event("a", "1998-03-02T07:10:00.000Z"), event("b", "1998-03-02T07:20:00.000Z")])
    duckdb_job.run(str(landing.lake))
    settings = platform_settings(tmp_path)
    first_rows = processed_rows(landing.lake)
    kept = {zone: lake_files(settings, zone, "clickstream") for zone in ("quarantine", "landing")}
    kept["audit"] = lake_files(settings, "processed", "clickstream_audit")
    columns = duckdb.sql(f"describe select * from read_parquet('{landing.lake}/processed/clickstream/**/*.parquet')")
    before_columns = columns.fetchall()
    drifted = json.dumps(click_drift(change, json.loads(event("c", "1998-03-02T08:30:00.000Z"))))
    landing.drop("1998-03-02 09", [drifted, event("d", "1998-03-02T08:40:00.000Z")], name="b")

    summary = duckdb_job.run(str(landing.lake))

    lake = landing.lake
    rows = processed_rows(lake)
    assert set(first_rows) <= set(rows), "an earlier event changed or went"
    after = duckdb.sql(f"describe select * from read_parquet('{lake}/processed/clickstream/**/*.parquet')").fetchall()
    assert after == before_columns, "the processed zone's columns follow the contract, not the events"
    ids = sorted(row[0] for row in rows)
    if change == "new":  # carried no further than landing, where the line stays as sent
        assert (summary["processed"], summary["quarantined"]) == (2, 0)
        assert ids == ["a", "b", "c", "d"]
        assert "referrer" not in {column[0] for column in after}
    else:
        assert (summary["processed"], summary["quarantined"]) == (1, 1)
        assert ids == ["a", "b", "d"]
        reason = {"type": "bad_value", "drop": "missing_key", "rename": "missing_key"}[change]
        quarantined = duckdb.sql(
            f"select line_number, reason, raw_line from read_parquet('{lake}/quarantine/clickstream/**/*.parquet')"
        ).fetchall()
        assert quarantined == [(1, reason, drifted)]
        assert reason in contract.REASONS
    assert_kept(kept["landing"], lake_files(settings, "landing", "clickstream"))
    assert_kept(kept["quarantine"], lake_files(settings, "quarantine", "clickstream"))
    assert_kept(kept["audit"], lake_files(settings, "processed", "clickstream_audit"))


# -- staging after the drift (dbt) ----------------------------------------------------------

STAGING = ("stg_shop__customers", "stg_payments__charges")


def staging_columns(env: dict[str, str]) -> dict[str, tuple[list[str], int]]:
    """Columns and row count of each STAGING model in the warehouse."""
    dbt(env, "run", "--select", *(f"+{model}" for model in STAGING))
    con = duckdb.connect(str(Path(env["DATA_DIR"]) / "warehouse.duckdb"), read_only=True)
    try:
        found = {}
        for model in STAGING:
            (schema,) = con.execute(
                "select table_schema from information_schema.tables where table_name = ?", [model]
            ).fetchone()
            columns = [c[0] for c in con.execute(f'describe "{schema}"."{model}"').fetchall()]
            found[model] = (columns, con.execute(f'select count(*) from "{schema}"."{model}"').fetchone()[0])
        return found
    finally:
        con.close()


@pytest.mark.slow
def test_new_columns_reach_the_lake_but_not_staging(tmp_path, payments_store, monkeypatch):
    """Staging names its columns: a new source column changes neither its shape nor its build."""
    env = platform_env(tmp_path / "data")
    settings = platform_settings(tmp_path / "data")
    con = tiny_shop(settings)
    shop_pipeline.run(settings, progress=None)
    load_payments(settings, payments_store)
    before = staging_columns(env)

    drift_shop("new", con)
    serve_drifted_charges(monkeypatch, "new")
    add_charge(payments_store, 3, updated=200)
    shop_pipeline.run(settings, progress=None)
    load_payments(settings, payments_store)
    after = staging_columns(env)

    assert {model: columns for model, (columns, _) in after.items()} == {m: c for m, (c, _) in before.items()}
    assert (
        "c_segment_score" not in after["stg_shop__customers"][0]
        and "risk_score" not in after["stg_payments__charges"][0]
    )
    assert after["stg_shop__customers"][1] == before["stg_shop__customers"][1] + 1
    assert after["stg_payments__charges"][1] == before["stg_payments__charges"][1] + 1
