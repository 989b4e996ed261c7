"""PII in the marts: hashed or masked by the columns' meta, with a salt nobody can read back.

The policy (docs/security.md, "PII in the marts"): a mart column holding a customer's or a
supplier's name, address or phone carries ``meta: {pii: hash}`` or ``{pii: mask}`` in its
YAML, and macros/pii/pii.sql applies it. The salt comes from ``PII_SALT`` at run time.

The checks read the session's ``built_platform`` (SF 0.01, DuckDB ``ci``), which runs with
a salt only this session knows: no extra build. Slow: every Parquet cell searched for the
salt, and two ``dbt show`` runs on an empty warehouse (another salt gives another hash; a
target with no salt stops).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from pathlib import Path

import duckdb
import pytest
import yaml

from ingestion.errors import PlatformError
from ingestion.settings import load_settings
from tests.conftest import ROOT, dbt, platform_env, platform_settings
from tests.dbt.test_documentation import models_under, warehouse_columns
from tests.security.test_secret_leaks import _readings, files_holding, written_files

pytestmark = pytest.mark.e2e

MARTS = ("models/marts/",)
# The shop's PII: table -> columns (TPC-H names, addresses and phones).
SOURCE_PII = {"customer": ("c_name", "c_address", "c_phone"), "supplier": ("s_name", "s_address", "s_phone")}
# A mart column whose name says it holds PII must say how it is protected. Other names
# (nation_name, part_name, partner_name) name places, products and companies' feeds.
PII_COLUMN = re.compile(r"^(customer|supplier|contact|person)_name(_|$)|(^|_)(address|phone|email)(_|$)")
# var pii_local_salt in dbt_project.yml: public, written into the compiled SQL on purpose.
LOCAL_SALT = "marketplace-local-salt-not-secret"
POLICIES = {"hash": re.compile(r"^[0-9a-f]{64}$"), "mask": re.compile(r"^\*+.{0,2}$")}


def manifest(env: dict[str, str]) -> dict:
    return json.loads((Path(env["DBT_TARGET_PATH"]) / "manifest.json").read_text())


def column_policy(column: dict) -> str | None:
    """The column's pii meta, wherever this dbt version keeps it."""
    return (column.get("meta") or {}).get("pii") or ((column.get("config") or {}).get("meta") or {}).get("pii")


def pii_policies(marts: dict[str, dict]) -> dict[tuple[str, str], str]:
    return {
        (name, column): policy
        for name, node in marts.items()
        for column, declared in node["columns"].items()
        if (policy := column_policy(declared))
    }


def unmarked_pii_columns(marts: dict[str, dict]) -> list[str]:
    """Mart columns named like PII with no pii meta (the contracts make the YAML list every column)."""
    return sorted(
        f"{name}.{column}"
        for name, node in marts.items()
        for column, declared in node["columns"].items()
        if PII_COLUMN.search(column) and not column_policy(declared)
    )


def raw_pii(env: dict[str, str]) -> list[str]:
    """Every name, address and phone in the shop source, as the source system holds them."""
    url = platform_settings(Path(env["DATA_DIR"])).shop_db_url
    with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
        return [
            value
            for table, columns in SOURCE_PII.items()
            for column in columns
            for (value,) in con.execute(f"select {column} from {table}")  # names from SOURCE_PII
        ]


def warehouse(env: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """An in-memory session with the built warehouse attached read-only (temp tables allowed)."""
    con = duckdb.connect()
    path = str(Path(env["DATA_DIR"]) / "warehouse.duckdb").replace("'", "''")
    con.execute(f"attach '{path}' as warehouse (read_only)")
    return con


def test_no_mart_holds_a_raw_name_address_or_phone(built_platform):
    raw = raw_pii(built_platform)
    assert len(raw) > 3000, "the shop source holds fewer customers and suppliers than SF 0.01 makes"
    marts = models_under(manifest(built_platform), MARTS)
    columns = warehouse_columns(Path(built_platform["DATA_DIR"]) / "warehouse.duckdb", marts)
    assert set(columns) == set(marts), "a mart is missing from the warehouse"
    with warehouse(built_platform) as con:
        con.execute("create temp table raw_pii as select unnest(?::varchar[]) as value", [raw])
        # Not blind: staging keeps the names the dimensions hash, and they are found there.
        (in_staging,) = con.execute(
            "select count(*) from warehouse.main.stg_shop__customers where customer_name in (select value from raw_pii)"
        ).fetchone()
        assert in_staging == 1500
        found = {}
        for mart, names in columns.items():
            schema, alias = marts[mart]["schema"], marts[mart]["alias"]
            for column in names:
                (count,) = con.execute(
                    f'select count(*) from warehouse."{schema}"."{alias}" '
                    f'where cast("{column}" as varchar) in (select value from raw_pii)'
                ).fetchone()
                if count:
                    found[f"{mart}.{column}"] = count
    assert found == {}


def test_every_pii_column_has_a_policy_and_the_policy_is_applied(built_platform):
    marts = models_under(manifest(built_platform), MARTS)
    assert unmarked_pii_columns(marts) == []
    policies = pii_policies(marts)
    assert {("dim_customers", "customer_name"), ("dim_suppliers", "supplier_name")} <= set(policies)
    with warehouse(built_platform) as con:
        for (mart, column), policy in policies.items():
            assert policy in POLICIES, f"{mart}.{column}: unknown pii policy {policy!r}"
            query = f'select "{column}" from warehouse.main."{mart}" where "{column}" is not null'
            values = [value for (value,) in con.execute(query).fetchall()]
            assert values, f"{mart}.{column} is empty: nothing was checked"
            wrong = [value for value in values if not POLICIES[policy].match(value)]
            assert wrong == [], f"{mart}.{column} ({policy}): {wrong[:3]}"


def test_the_lint_finds_an_unmarked_pii_column():
    """The name check is not blind: a phone without meta is found, a nation name is not."""
    marts = {
        "dim_x": {
            "columns": {
                "customer_phone": {"meta": {}},
                "customer_name": {"config": {"meta": {"pii": "hash"}}},
                "nation_name": {},
                "billing_address_line": {"meta": {"pii": "mask"}},
            }
        }
    }
    assert unmarked_pii_columns(marts) == ["dim_x.customer_phone"]


def quick_holding(root: Path, secret: str) -> list[str]:
    """files_holding without what takes it most of its time, which the slow test reads: every
    Parquet cell, and the simulated sources' drops in lake/landing (4,000 gzip files)."""
    needle = secret.encode()
    return sorted(
        str(path.relative_to(root))
        for path in written_files(root)
        if path.suffix != ".parquet"
        and not path.relative_to(root).is_relative_to("lake/landing")
        and any(needle in reading for reading in _readings(path))
    )


def test_the_salt_is_used_and_written_nowhere(built_platform):
    salt = built_platform["PII_SALT"]
    data_dir = Path(built_platform["DATA_DIR"])
    with warehouse(built_platform) as con:
        pairs = con.execute(
            """
            select staged.customer_name, dim.customer_name
            from warehouse.main.stg_shop__customers as staged
            inner join warehouse.main.dim_customers as dim using (customer_id)
            order by customer_id
            limit 20
            """
        ).fetchall()
    assert len(pairs) == 20
    for name, hashed in pairs:
        assert hashed == hashlib.sha256((salt + name).encode()).hexdigest()
    # The reader sees dbt's compiled SQL: the public fallback salt is written there.
    assert "target/manifest.json" in quick_holding(data_dir, LOCAL_SALT)
    # target/ (compiled, run, manifest, run_results), dbt's logs, dlt's state and traces,
    # the warehouse file and each step's output; the rest in the slow test below.
    assert quick_holding(data_dir, salt) == []


@pytest.mark.slow
def test_the_salt_is_in_no_file_at_all(built_platform):
    """Every file, Parquet cells and landing drops included (about 20 s at SF 0.01)."""
    assert files_holding(Path(built_platform["DATA_DIR"]), built_platform["PII_SALT"]) == []


def inline(env: dict[str, str], sql: str, *args: str, check: bool = True):
    return dbt(env, "show", "--inline", sql, "--output", "json", "--log-format", "text", *args, check=check)


NAME, PHONE = "Customer#000000001", "25-989-741-2988"
SHOWN = f"select {{{{ pii_hash(\"'{NAME}'\") }}}} as hashed, {{{{ pii_mask(\"'{PHONE}'\") }}}} as masked"


@pytest.mark.slow
def test_another_salt_gives_another_hash(built_platform, tmp_path):
    """The same name through the same macro on an empty warehouse, with another PII_SALT."""
    with warehouse(built_platform) as con:
        (built,) = con.execute(
            "select customer_name from warehouse.main.dim_customers where customer_id = 1"
        ).fetchone()
    assert built == hashlib.sha256((built_platform["PII_SALT"] + NAME).encode()).hexdigest()
    salt = f"pii-OTHER-{uuid.uuid4().hex}"
    shown = inline(platform_env(tmp_path, PII_SALT=salt), SHOWN)
    (row,) = json.loads(shown.stdout[shown.stdout.index("{") :])["show"]
    assert row["hashed"] == hashlib.sha256((salt + NAME).encode()).hexdigest() != built
    assert row["masked"] == "*" * 13 + "88"
    assert files_holding(tmp_path, salt) == []


@pytest.mark.slow
def test_a_target_without_a_salt_stops_naming_pii_salt(tmp_path):
    """A target outside pii_local_salt_targets (here ci, taken off the list) and no PII_SALT."""
    env = platform_env(tmp_path)
    env.pop("PII_SALT", None)
    failed = inline(env, SHOWN, "--vars", "{pii_local_salt_targets: []}", check=False)
    assert failed.returncode != 0
    assert "PII_SALT is not set: the PII hashes need a salt on target ci" in failed.stdout + failed.stderr


@pytest.mark.parametrize(
    "salt",
    [f"pii with spaces {uuid.uuid4().hex}", f"pii\\backslash{uuid.uuid4().hex}", "null", "short-salt"],
    ids=["space", "backslash", "spark-null", "short"],
)
def test_a_salt_too_short_or_that_pgoptions_cannot_carry_is_refused_without_showing_it(salt):
    with pytest.raises(PlatformError, match="PII_SALT is not accepted") as refused:
        load_settings({"PII_SALT": salt})
    assert salt not in str(refused.value)


def test_every_duckdb_target_hands_the_salt_to_dbt():
    """dev, ci, sandbox and publish all load the plugin, or their hashes would use the public salt."""
    outputs = yaml.safe_load((ROOT / "profiles" / "profiles.yml").read_text())["marketplace"]["outputs"]
    duckdb_targets = {name for name, output in outputs.items() if output["type"] == "duckdb"}
    assert duckdb_targets >= {"dev", "ci", "sandbox", "publish"}
    for name in duckdb_targets:
        assert {"module": "marketplace.pii_salt"} in outputs[name].get("plugins", []), name
