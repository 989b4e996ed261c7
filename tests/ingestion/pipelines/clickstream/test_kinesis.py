"""Kinesis delivery against moto's Kinesis in server mode: put, consume, stop, resume."""

from __future__ import annotations

import gzip
import os
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from ingestion.errors import PlatformError
from ingestion.pipelines.clickstream import pipeline
from ingestion.settings import load_settings
from processing.clickstream import duckdb_job
from simulator import clickstream, shop
from simulator.context import SimContext

CUTOFF = date(1998, 1, 3)


@pytest.fixture
def moto_kinesis(monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for key, value in {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CLICKSTREAM_DELIVERY": "kinesis",
        "CLICKSTREAM_STREAM": "clickstream-test",
    }.items():
        monkeypatch.setenv(key, value)
    yield
    # moto keeps its state per process: clear it so that every test starts with no stream.
    requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10).raise_for_status()
    server.stop()


def _landed_lines(lake: Path) -> Counter:
    root = lake / "landing" / "clickstream"
    return Counter(
        line for path in root.rglob("*.gz") for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    )


def _settings(data_dir: Path):
    """Settings of the test's environment (the moto endpoint, the delivery mode) for ``data_dir``."""
    return load_settings({**os.environ, "DATA_DIR": str(data_dir), "SF": "0.01"})


def _simulate(data_dir: Path, days: int = 0) -> SimContext:
    ctx = SimContext(_settings(data_dir))
    shop.init(ctx, CUTOFF)
    clickstream.init(ctx)
    if days:
        shop.advance(ctx, days)
        for offset in range(1, days + 1):
            clickstream.produce_day(ctx, CUTOFF + timedelta(days=offset))
    return ctx


def test_consumer_lands_every_put_record_once_and_resumes_after_a_stop(moto_kinesis, tmp_path, monkeypatch):
    ctx = _simulate(tmp_path / "kinesis")
    lake = Path(ctx.settings.lake_url)
    assert not (lake / "landing").exists(), "kinesis mode must not write landing files itself"

    first = pipeline.run(ctx.settings, max_records=300, batch_records=100)
    assert first["rows"]["events"] == 300
    partial = _landed_lines(lake)
    rest = pipeline.run(ctx.settings, batch_records=100)
    assert pipeline.run(ctx.settings)["rows"] == {"events": 0}

    monkeypatch.setenv("CLICKSTREAM_DELIVERY", "firehose")
    expected = _landed_lines(Path(_simulate(tmp_path / "firehose").settings.lake_url))
    landed = _landed_lines(lake)
    assert landed == expected
    assert sum(partial.values()) == 300
    assert first["rows"]["events"] + rest["rows"]["events"] == sum(expected.values())


def test_kinesis_landing_files_process_and_reconcile(moto_kinesis, tmp_path):
    ctx = _simulate(tmp_path, days=1)
    pipeline.run(ctx.settings)
    summary = duckdb_job.run(ctx.settings.lake_url)
    assert summary["delivered"] == sum(_landed_lines(Path(ctx.settings.lake_url)).values())
    assert summary["delivered"] == summary["processed"] + summary["quarantined"] + summary["duplicates"]
    assert summary["processed"] > 0


def test_a_missing_stream_is_a_clear_error(moto_kinesis, tmp_path):
    with pytest.raises(PlatformError, match="Kinesis stream clickstream-test does not exist"):
        pipeline.run(_settings(tmp_path))


def test_firehose_mode_has_nothing_to_consume(tmp_path, monkeypatch):
    monkeypatch.delenv("CLICKSTREAM_DELIVERY", raising=False)
    summary = pipeline.run(_settings(tmp_path))
    assert (summary["rows"], summary["files"]) == ({}, 0)
    assert not (tmp_path / "lake").exists()
