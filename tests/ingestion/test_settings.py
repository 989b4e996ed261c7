from pathlib import Path

import pytest

from ingestion.errors import PlatformError
from ingestion.settings import load_settings, unknown_variables


def test_defaults_are_local_and_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.data_dir == tmp_path / "data"
    assert settings.lake_url == str(tmp_path / "data" / "lake")
    assert settings.sf == 0.01
    assert settings.dbt_target == "dev"
    assert settings.shop_db_url == f"sqlite:///{tmp_path / 'data' / 'sources' / 'shop.db'}"
    assert settings.zone_url("raw", "shop") == str(tmp_path / "data" / "lake" / "raw" / "shop")


def test_remote_lake_url_is_kept_verbatim():
    settings = load_settings({"DATA_DIR": "/tmp/x", "LAKE_URL": "s3://bucket/lake/"})
    assert settings.zone_url("processed", "clickstream") == "s3://bucket/lake/processed/clickstream"
    assert not settings.lake_is_local


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SF": "0.001"}, "SF=0.001 is out of range"),
        ({"SF": "1000"}, "SF=1000 is out of range"),
        ({"SF": "big"}, "SF='big' is not a number"),
        ({"DBT_TARGET": "snowflake"}, "unknown dbt target 'snowflake'"),
        ({"SEED": "x"}, "SEED='x' is not an integer"),
    ],
    ids=["sf-too-small", "sf-too-big", "sf-not-a-number", "unknown-target", "seed-not-an-int"],
)
def test_bad_settings_fail_with_a_clear_message(env, message):
    with pytest.raises(PlatformError, match=message):
        load_settings({"DATA_DIR": str(Path("/tmp")), **env})


def test_unknown_zone_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown lake zone"):
        load_settings({}).zone_url("gold")


def test_a_misspelt_variable_is_named_with_a_suggestion():
    env = {"PG_PROT": "5433", "DBT_TARGET": "pg", "HOME": "/root", "SPARK_HOME": "/opt/spark", "REDSHIFT_HST": "x"}
    assert unknown_variables(env) == [
        "PG_PROT is not a setting of the platform (did you mean PG_PORT?); see .env.example",
        "REDSHIFT_HST is not a setting of the platform (did you mean REDSHIFT_HOST?); see .env.example",
    ]
