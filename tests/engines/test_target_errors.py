"""A target with missing settings or a server that is down stops before any model runs."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import dbt, platform_env


@pytest.mark.parametrize(
    ("target", "env", "missing"),
    [
        ("redshift", {}, "REDSHIFT_HOST"),
        (
            "redshift",
            {
                "REDSHIFT_METHOD": "iam",
                "REDSHIFT_HOST": "cluster.example",
                "REDSHIFT_USER": "dbt",
                "REDSHIFT_DBNAME": "analytics",
                "REDSHIFT_SCHEMA": "marts",
            },
            "REDSHIFT_CLUSTER_ID",
        ),
        (
            "redshift",
            {
                "REDSHIFT_HOST": "cluster.example",
                "REDSHIFT_USER": "dbt",
                "REDSHIFT_DBNAME": "analytics",
                "REDSHIFT_SCHEMA": "marts",
            },
            "REDSHIFT_PASSWORD",
        ),
        ("athena", {}, "ATHENA_S3_STAGING_DIR"),
        ("athena", {"ATHENA_S3_STAGING_DIR": "s3://results/"}, "ATHENA_S3_DATA_DIR"),
    ],
    ids=[
        "redshift-host",
        "redshift-iam-cluster",
        "redshift-password",
        "athena-staging",
        "athena-data",
    ],
)
def test_missing_setting_is_named_before_any_model_runs(tmp_path, target, env, missing):
    proc = dbt(platform_env(tmp_path, DBT_TARGET=target, **env), "build", check=False)
    assert proc.returncode != 0
    assert f"Env var required but not provided: '{missing}'" in proc.stdout
    assert not (tmp_path / "target" / "run").exists()


def test_pg_server_down_is_reported_with_its_address(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the socket is closed again: nothing listens on the port any more
    proc = dbt(platform_env(tmp_path, DBT_TARGET="pg", PG_PORT=str(port)), "build", check=False)
    assert proc.returncode != 0
    assert f'connection to server at "127.0.0.1", port {port} failed' in proc.stdout
    assert not (tmp_path / "target" / "run").exists()
