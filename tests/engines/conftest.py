"""Servers the engine tests talk to: a throwaway PostgreSQL cluster and moto's AWS."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import boto3
import pytest

from ingestion.devservices import postgres
from ingestion.errors import PlatformError

AWS_REGION = "eu-west-1"


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL cluster on a free port for this test session, removed afterwards.

    Under /tmp itself, not pytest's tmp_path: as root the server runs as ``postgres``,
    which cannot enter pytest's private (0700) temporary folders.
    """
    try:
        postgres._binary("initdb")
    except PlatformError as exc:
        pytest.skip(str(exc))
    base = Path(tempfile.mkdtemp(prefix="engines-pg-"))
    server = postgres.start(base)
    yield server
    postgres.stop(base, remove=True)


@pytest.fixture(scope="session")
def moto_url():
    """moto's AWS (S3, Glue, Athena) on 127.0.0.1, port chosen by the OS."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def aws_env(moto_url: str) -> dict[str, str]:
    """boto3 (>= 1.28) sends every client to AWS_ENDPOINT_URL: S3, Glue and STS alike."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": AWS_REGION,
        "AWS_REGION": AWS_REGION,
    }


def create_bucket(moto_url: str, name: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name=AWS_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": AWS_REGION})


def compiled_models(target_path: Path) -> dict[str, str]:
    """Model name → compiled SQL, from the manifest of a ``dbt compile``."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    return {
        node["name"]: node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("compiled_code")
    }


def model_count(target_path: Path) -> int:
    manifest = json.loads((target_path / "manifest.json").read_text())
    return sum(1 for node in manifest["nodes"].values() if node["resource_type"] == "model")


def adapter_type(target_path: Path) -> str:
    return json.loads((target_path / "manifest.json").read_text())["metadata"]["adapter_type"]


def model_configs(target_path: Path) -> dict[str, dict]:
    """Model name → its config as the last dbt command rendered it for its target."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    return {node["name"]: node["config"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
