"""Secrets are used, never written: a run with distinctive secret values leaves none of them behind.

Each test gives a command a secret nobody else could produce (``tok-SECRET-<uuid>``),
runs it in a subprocess (against a real server that requires the secret, where there is
one), then reads back every file the run wrote under its ``DATA_DIR`` (dlt's pipeline
state, traces, schemas and load packages, the lake's Parquet and the state dlt keeps
there, dbt's ``target/`` and logs) and the command's own stdout and stderr. Compressed
content is read decompressed: gzip files, Parquet cells, and the base64 + zlib blobs
dlt stores its state in.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulator import payments, payments_api
from tests.conftest import cli, dbt, platform_env

pytestmark = pytest.mark.usefixtures("no_configured_payments_api")

BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=_-]{24,}")


def _decoded_blobs(data: bytes) -> Iterator[bytes]:
    """What base64 runs in ``data`` hold when they are zlib or gzip blobs (dlt's compressed state)."""
    for match in BASE64_RUN.finditer(data):
        run = match.group()
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(run + b"=" * (-len(run) % 4))
            except (binascii.Error, ValueError):
                continue
            for inflate in (zlib.decompress, gzip.decompress):
                try:
                    inflated = inflate(raw)
                except (zlib.error, OSError, EOFError):
                    continue
                yield inflated


def _readings(path: Path) -> Iterator[bytes]:
    """The file's bytes and every decompressed form of them this test knows how to read."""
    data = path.read_bytes()
    yield data
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
        yield data
    if path.suffix == ".parquet":
        for column in pq.read_table(path).to_pylist():
            data = repr(column).encode()
            yield data
    yield from _decoded_blobs(data)


def files_holding(root: Path, secret: str) -> list[str]:
    needle = secret.encode()
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and any(needle in reading for reading in _readings(path))
    )


def written_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_the_check_finds_a_secret_wherever_dlt_would_put_it(tmp_path):
    """The reader above is not blind: a secret planted in each form it reads is found."""
    secret = f"tok-SECRET-{uuid.uuid4().hex}"
    (tmp_path / "trace.pickle").write_bytes(b"\x80\x04" + secret.encode() + b"\x94")
    (tmp_path / "package.jsonl.gz").write_bytes(gzip.compress(f'{{"token": "{secret}"}}'.encode()))
    blob = base64.b64encode(zlib.compress(f'{{"sources": {{"token": "{secret}"}}}}'.encode()))
    (tmp_path / "state.jsonl").write_bytes(b'{"state": "' + blob + b'"}')
    pq.write_table(pa.table({"token": [secret] * 1000}), tmp_path / "rows.parquet", compression="zstd")
    (tmp_path / "clean.txt").write_text("nothing here")
    assert files_holding(tmp_path, secret) == ["package.jsonl.gz", "rows.parquet", "state.jsonl", "trace.pickle"]


def test_the_payments_token_is_written_nowhere(fresh):
    """`marketplace ingest payments` against an API that requires a token only this test knows."""
    secret = f"tok-SECRET-{uuid.uuid4().hex}"
    data_dir = fresh.settings.data_dir
    with payments_api.running(payments.store_path(fresh), token=secret) as server:
        env = platform_env(data_dir, SOURCES__PAYMENTS__BASE_URL=server.url, SOURCES__PAYMENTS__TOKEN=secret)
        first = cli(env, "ingest", "payments")
        # A second run reads the state the first one left (the cursors) and loads nothing new.
        again = cli(env, "ingest", "payments")
        accepted = server.served.count(200)
    assert accepted > 2, "the runs never got past the token"
    dlt_files = [p for p in written_files(fresh.settings.pipelines_dir) if p.suffix in (".json", ".pickle")]
    lake_files = written_files(Path(fresh.settings.zone_url("raw", "payments")))
    assert dlt_files and any(p.suffix == ".parquet" for p in lake_files), "the run wrote no state or no lake"
    # The readers see what dlt records: the trace keeps the resolved base URL (a config
    # value; dlt masks values typed as secrets), and the lake's copy of the pipeline
    # state is readable only once decompressed.
    assert "dlt/payments/trace.pickle" in files_holding(data_dir, server.url)
    state = next(Path(fresh.settings.zone_url("raw", "payments"), "_dlt_pipeline_state").glob("*"))
    readings = list(_readings(state))
    assert b"last_value" not in readings[0] and any(b"last_value" in reading for reading in readings)
    assert files_holding(data_dir, secret) == []
    for proc in (first, again):
        assert secret not in proc.stdout + proc.stderr


def test_a_rejected_token_is_not_echoed(fresh):
    """The API refuses the configured token: the one-line error names the variable, not its value."""
    secret = f"tok-SECRET-{uuid.uuid4().hex}"
    data_dir = fresh.settings.data_dir
    with payments_api.running(payments.store_path(fresh)) as server:
        env = platform_env(data_dir, SOURCES__PAYMENTS__BASE_URL=server.url, SOURCES__PAYMENTS__TOKEN=secret)
        failed = cli(env, "ingest", "payments", check=False)
        refused = server.served.count(401)
    assert failed.returncode == 1 and refused == 1
    assert "rejected the token" in failed.stderr and "SOURCES__PAYMENTS__TOKEN" in failed.stderr
    assert secret not in failed.stdout + failed.stderr
    assert files_holding(data_dir, secret) == []


def test_dbt_artifacts_hold_no_warehouse_password(tmp_path):
    """`dbt parse` on the pg target: the profile's password is used, never written to target/ or logs."""
    secret = f"tok-SECRET-{uuid.uuid4().hex}"
    schema = f"schema_probe_{uuid.uuid4().hex[:8]}"
    env = platform_env(tmp_path, DBT_TARGET="pg", PG_PASSWORD=secret, PG_SCHEMA=schema)
    proc = dbt(env, "parse", "--target", "pg")
    # The profile's other values do reach the artifacts (models are placed in its schema).
    assert "target/manifest.json" in files_holding(tmp_path, schema)
    assert files_holding(tmp_path, secret) == []
    assert secret not in proc.stdout + proc.stderr
