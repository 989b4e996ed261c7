"""The DAG's settings check and helpers, without a scheduler (orchestration/daily.py)."""

from __future__ import annotations

import pytest

from ingestion.errors import PlatformError
from marketplace.devenv import ROOT
from orchestration import daily

PROFILES = ROOT / "profiles" / "profiles.yml"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean platform environment: the settings the DAG's tasks would read on a worker."""
    for name in ("DBT_TARGET", "SF", "DAG_SIMULATED_SOURCES", "DAG_RETRIES", *daily.REAL_SOURCE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for name in daily.dbt_required_variables("redshift", PROFILES) + daily.dbt_required_variables("athena", PROFILES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return monkeypatch


def test_the_defaults_pass(env):
    assert daily.check_settings(ROOT).startswith("settings valid: DBT_TARGET=dev")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SF": "abc"}, "SF='abc' is not a number"),
        ({"DBT_TARGET": "bigquery"}, "unknown dbt target 'bigquery'"),
        ({"DAG_RETRIES": "-1"}, "DAG_RETRIES=-1 is out of range"),
        ({"DAG_SIMULATED_SOURCES": "maybe"}, "DAG_SIMULATED_SOURCES='maybe' is not accepted"),
        ({"DBT_TARGET": "redshift"}, "REDSHIFT_HOST is not set: dbt target redshift needs it"),
        ({"DBT_TARGET": "athena"}, "ATHENA_S3_STAGING_DIR is not set: dbt target athena needs it"),
        (
            {"DAG_SIMULATED_SOURCES": "false"},
            "SHOP_DB_URL is not set: DAG_SIMULATED_SOURCES=false means real sources",
        ),
        (
            {"DAG_SIMULATED_SOURCES": "false", "SHOP_DB_URL": "postgresql://loader@db:5432/shop"},
            "SOURCES__PAYMENTS__BASE_URL is not set",
        ),
    ],
    ids=["sf", "target", "retries", "simulated", "redshift", "athena", "real-shop", "real-payments"],
)
def test_a_bad_or_missing_setting_is_named(env, variables, message):
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(PlatformError, match=message.replace("(", r"\(")):
        daily.check_settings(ROOT)


def test_the_required_variables_come_from_the_profile():
    # the bare env_var() calls of profiles.yml, not a list kept here
    text = PROFILES.read_text()
    for target in ("redshift", "athena"):
        names = daily.dbt_required_variables(target, PROFILES)
        assert names, target
        for name in names:
            assert f"{{{{ env_var('{name}') }}}}" in text
    assert daily.dbt_required_variables("ci", PROFILES) == ()


def test_the_dag_parses_with_bad_settings(env):
    """A bad value must fail the run's first task, not hide the DAG: the parse takes the defaults."""
    env.setenv("SF", "abc")
    assert daily.dag_settings().sf == 0.01


def test_the_dbt_project_is_the_bundled_one_when_there_is_one(tmp_path):
    assert daily.dbt_project_dir(ROOT) == ROOT
    (tmp_path / "dbt").mkdir()
    (tmp_path / "dbt" / "dbt_project.yml").write_text("name: marketplace\n")
    assert daily.dbt_project_dir(tmp_path) == tmp_path / "dbt"
