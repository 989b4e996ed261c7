"""Values that reach SQL text are refused, with one clear line, before any SQL runs.

Settings (identifiers: schemas, databases, catalogs; literals: folders and URLs put between
quotes), the `bi export` flags written into the BI tools' SQL, and the dbt var
`clickstream_lookback_days`, each against the same injection attempts.
"""

from __future__ import annotations

import json

import pytest

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.settings import _BY_NAME, SQL_IDENTIFIER_VARIABLES, SQL_LITERAL_VARIABLES, load_settings
from tests.conftest import cli, dbt, platform_env

INJECTIONS = ("x'; drop table t; --", 'a"b', "../../etc")
# A path is allowed to climb (`../../etc` is a folder like any other); quotes and `;` are not.
LITERAL_INJECTIONS = (*(value for value in INJECTIONS if value != "../../etc"), "/tmp/a\\b", "/tmp/a\nb")
VALID_LITERAL = {"SHOP_DB_URL": "postgresql://user:password@db.internal:5432/shop", "LAKE_URL": "s3://bucket/lake"}


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
@pytest.mark.parametrize("name", SQL_IDENTIFIER_VARIABLES)
def test_an_identifier_setting_that_is_not_a_plain_name_is_refused(tmp_path, name, value):
    with pytest.raises(PlatformError) as refused:
        load_settings(platform_env(tmp_path, **{name: value}))
    message = str(refused.value)
    assert message.startswith(f"{name}={value!r} is not accepted") and "^[A-Za-z_][A-Za-z0-9_]*$" in message


@pytest.mark.parametrize("name", SQL_IDENTIFIER_VARIABLES)
def test_an_identifier_setting_that_is_a_plain_name_passes(tmp_path, name):
    load_settings(platform_env(tmp_path, **{name: "Marts_2024"}))
    default = _BY_NAME[name].default
    load_settings(platform_env(tmp_path, **{name: default}))


@pytest.mark.parametrize("value", LITERAL_INJECTIONS, ids=repr)
@pytest.mark.parametrize("name", SQL_LITERAL_VARIABLES)
def test_a_path_or_url_setting_that_could_close_its_quotes_is_refused(tmp_path, name, value):
    with pytest.raises(PlatformError, match=rf"^{name}=.* is not accepted: a path or URL that reaches SQL"):
        load_settings(platform_env(tmp_path, **{name: value}))


@pytest.mark.parametrize("name", SQL_LITERAL_VARIABLES)
def test_a_plain_path_or_url_passes(tmp_path, name):
    value = VALID_LITERAL.get(name, str(tmp_path / "a folder-with.dots" / "x"))
    load_settings(platform_env(tmp_path, **{name: value}))


def test_the_shop_url_is_refused_without_showing_its_password(tmp_path):
    hidden = "pa'ss"
    with pytest.raises(PlatformError) as refused:
        load_settings(platform_env(tmp_path, SHOP_DB_URL=f"postgresql://loader:{hidden}@db:5432/shop"))
    assert "SHOP_DB_URL" in str(refused.value) and hidden not in str(refused.value)


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
def test_the_cli_refuses_an_injected_schema_in_one_line_and_writes_nothing(tmp_path, value):
    data_dir = tmp_path / "data"
    proc = cli(platform_env(data_dir, PG_SCHEMA=value), "simulate", "init", "--sf", "0.01", check=False)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stdout + proc.stderr
    assert lines[0].startswith(f"error: PG_SCHEMA={value!r} is not accepted")
    assert not data_dir.exists() or not any(p.is_file() for p in data_dir.rglob("*"))


@pytest.mark.parametrize("flag", ["--schema", "--database"])
@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
def test_bi_export_refuses_an_injected_schema_or_database_before_writing(tmp_path, flag, value):
    out = tmp_path / "bi"
    proc = cli(platform_env(tmp_path / "data"), "bi", "export", "--out", str(out), flag, value, check=False)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stdout + proc.stderr
    assert lines[0].startswith(f"error: {flag}={value!r} is not accepted")
    assert not out.exists()


@pytest.mark.parametrize("value", ["1; drop table x", *INJECTIONS, "-1", "3.5"], ids=repr)
def test_dbt_refuses_a_lookback_var_that_is_not_an_integer(tmp_path, value):
    env = platform_env(tmp_path)
    proc = dbt(env, "parse", "--vars", json.dumps({"clickstream_lookback_days": value}), check=False)
    assert proc.returncode != 0
    expected = f"var clickstream_lookback_days is not accepted: choose an integer from 0 to 365 (got: {value})"
    assert expected in proc.stdout
    assert not (tmp_path / "target" / "manifest.json").exists()


def test_dbt_accepts_an_integer_lookback_var(tmp_path):
    env = platform_env(tmp_path)
    dbt(env, "parse", "--vars", json.dumps({"clickstream_lookback_days": 7}))
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["project_name"]


@pytest.mark.parametrize(
    ("override", "dbt_vars", "expected"),
    [
        # on DuckDB targets the PII salt plugin loads the settings first (marketplace/pii_salt.py)
        ({"SHOP_RAW_SCHEMA": 'a"b'}, {}, "SHOP_RAW_SCHEMA='a\"b' is not accepted"),
        # a dbt var the settings never see: the first on-run-start hook (macros/check_sql_inputs.sql)
        ({}, {"lake_url": "x'; drop table t; --"}, "the lake URL (var lake_url, or LAKE_URL / DATA_DIR) is not"),
    ],
    ids=["schema-env-var", "lake-url-var"],
)
def test_a_bare_dbt_run_refuses_an_injected_schema_or_lake_url_before_any_sql(tmp_path, override, dbt_vars, expected):
    """dbt without the platform's CLI: refused with the value's name before any model runs."""
    env = platform_env(tmp_path, **override)
    proc = dbt(env, "run", "--select", "metricflow_time_spine", "--vars", json.dumps(dbt_vars), check=False)
    assert proc.returncode != 0
    assert expected in proc.stdout, proc.stdout[-2000:]
    warehouse = tmp_path / "warehouse.duckdb"
    if warehouse.exists():
        with duck.connect(str(warehouse), read_only=True) as con:
            assert not con.execute("select * from information_schema.tables").fetchall(), "a model ran"


def test_a_bare_dbt_run_with_plain_schemas_and_lake_url_passes_the_check(tmp_path):
    env = platform_env(tmp_path, SHOP_RAW_SCHEMA="raw_shop_2", LAKE_URL=str(tmp_path / "lake"))
    dbt(env, "run", "--select", "metricflow_time_spine")
