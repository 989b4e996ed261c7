"""Storage faults (issue 13, scenario 8): the S3 endpoint stops, the disk fills up, the lake turns read-only.

Each fault is real: moto's S3 served in this process stops answering (its listening
socket closed, open connections cut) and comes back on the same port with the same
objects, because moto keeps them in this process; a 256 MiB tmpfs is filled up to 1 MiB
from the end; the lake
folder is bind-mounted read-only over itself while a load runs (as root, ``chmod``
would not stop a write, so a read-only mount is the honest fault). Every case checks the
same three things as the other reliability tests: the failed run ends in one line
(``error: ...``) naming the path or endpoint and what to do, with no traceback; the lake
then holds no file dbt could not read (every file whole Parquet or JSON lines), and no
load id in the data that ``_dlt_loads`` lacks once the re-run is done; the re-run, after
the fault is removed, loads everything once.

The disk and read-only cases mount file systems, so they need root; they skip saying so
otherwise.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pyarrow.parquet as pq
import pytest
from werkzeug.serving import make_server

from ingestion import duck
from ingestion.errors import RERUN, storage_problem
from simulator import init_sources, payments
from tests.conftest import platform_env, platform_settings
from tests.reliability.crashes import pending_packages, phase_under_way, start
from tests.reliability.test_crash_mid_ingestion import lake_loads
from tests.reliability.test_duplicate_delivery import delivered_partner_rows
from tests.reliability.test_malformed_input import assert_lake_holds_exactly, shop_file
from tests.simulator import test_footprint

from marketplace.devenv import BIN  # isort: skip

# A 256 MiB tmpfs, mounted as root (skips saying why otherwise): the footprint test's own.
small_disk = test_footprint.small_disk
REGION = "eu-west-1"
BUCKET = "lake"
CUTOFF = date(1998, 7, 25)


# --- the S3 endpoint ------------------------------------------------------------------------------


class S3Endpoint:
    """moto's S3 on 127.0.0.1 that a test can stop like a dead endpoint and start again.

    ``stop_when(match)`` stops it right after the first request ``match(method, path)``
    accepts has been answered: new connections are refused, and a request on a
    connection the client kept open has its socket cut.
    """

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._app = DomainDispatcherApplication(create_backend_app)
        self._server = None
        self._thread: threading.Thread | None = None
        self._match: Callable[[str, str], bool] | None = None
        self.port = 0
        self.stopped = threading.Event()
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __call__(self, environ, start_response):
        if self.stopped.is_set():
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("503 Service Unavailable", [])
            return [b""]
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.requests.append((method, path))
        answer = self._app(environ, start_response)
        if self._match is not None and self._match(method, path):
            self._match = None
            self.stopped.set()
            threading.Thread(target=self._close, daemon=True).start()
        return answer

    def start(self) -> S3Endpoint:
        self._server = make_server("127.0.0.1", self.port, self, threaded=True)
        self.port = self._server.server_port
        self.stopped.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop_when(self, match: Callable[[str, str], bool]) -> None:
        self._match = match

    def stop(self) -> None:
        self.stopped.set()
        self._close()

    def _close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.shutdown()
            server.server_close()

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client(self):
        return boto3.client(
            "s3", region_name=REGION, config=botocore.config.Config(retries={"max_attempts": 1}), **_keys(self.env())
        )


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }


@pytest.fixture
def s3():
    endpoint = S3Endpoint().start()
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint.url}/moto-api/reset", method="POST")
    )  # moto's state is per process
    endpoint.client().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield endpoint
    endpoint.stop()


def s3_platform(tmp_path: Path, endpoint: S3Endpoint, *sources: str) -> tuple[dict[str, str], object]:
    """(environment, settings) of a DATA_DIR whose lake is ``s3://lake/lake``; sources built up to CUTOFF."""
    overrides = {"LAKE_URL": f"s3://{BUCKET}/lake", **endpoint.env()}
    settings = platform_settings(tmp_path / "data", **overrides)
    with pytest.MonkeyPatch.context() as patch:  # the simulator writes partner files through fsspec
        for name, value in endpoint.env().items():
            patch.setenv(name, value)
        init_sources(settings, CUTOFF, only=sources)
    return platform_env(tmp_path / "data", **overrides), settings


def download_lake(endpoint: S3Endpoint, to: Path) -> Path:
    """A local copy of the S3 lake (``to/lake``), for the same checks as a local lake."""
    s3 = endpoint.client()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="lake/"):
        for item in page.get("Contents", []):
            target = to / item["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(BUCKET, item["Key"], str(target))
    return to / "lake"


def downloaded_whole(endpoint: S3Endpoint, to: Path):
    """Settings whose local lake is a copy of the S3 lake, every file of it checked whole."""
    assert_every_file_whole(download_lake(endpoint, to))
    return platform_settings(to)


# --- what every case checks ---------------------------------------------------------------------


def run_until(env: dict[str, str], name: str, fault: Callable[[], bool]) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``marketplace ingest <name>``; ``fault()`` is called until it returns True (it injects
    the fault when it sees its moment). Returns the finished run and the seconds it ran on
    after the fault."""
    proc = start(env, str(BIN / "marketplace"), "ingest", name)
    injected = None
    while proc.poll() is None and injected is None:
        if fault():
            injected = time.monotonic()
        time.sleep(0.002)
    out, err = proc.communicate(timeout=600)
    assert injected is not None, f"ingest {name} ended (exit {proc.returncode}) before the fault: {err[-3000:]}"
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done, time.monotonic() - injected


def ingest(env: dict[str, str], name: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run([str(BIN / "marketplace"), "ingest", name], env=env, capture_output=True, text=True)
    return proc, time.monotonic() - started


def rerun(env: dict[str, str], name: str) -> None:
    """The same command again, once the fault is removed: it must succeed."""
    proc, seconds = ingest(env, name)
    print(f"re-run {seconds:.1f} s")
    assert proc.returncode == 0, proc.stderr[-4000:]


def assert_one_error_line(proc: subprocess.CompletedProcess, *names: str) -> str:
    """Exit 1, no traceback, one ``error:`` line (the last) that names ``names`` and says what to do."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == lines[-1:], proc.stderr[-4000:]
    for name in names:
        assert name in errors[0], errors[0]
    assert "run the same command again" in errors[0], errors[0]
    return errors[0]


def assert_every_file_whole(lake: Path) -> int:
    """Every Parquet file in the lake reads to its footer, every JSON-lines file parses: what dbt can read."""
    files = 0
    for path in lake.rglob("*.parquet"):
        pq.read_table(path)
        files += 1
    for path in lake.rglob("*.jsonl"):
        assert all(line.strip() for line in path.read_text().splitlines()), path
        files += 1
    return files


def assert_loads_committed(settings, name: str) -> set[str]:
    in_data, committed = lake_loads(settings, name)
    assert in_data, f"{name}: nothing landed"
    assert in_data <= committed, f"{name}: load ids {in_data - committed} in the data, not in _dlt_loads"
    return in_data


def payments_landed(settings) -> tuple[int, int]:
    """(charge rows in the raw zone from committed loads, distinct charge versions among them)."""

    raw = settings.zone_url("raw", "payments")
    committed = f"select load_id from read_json_auto('{raw}/_dlt_loads/*')"
    with duck.connect() as con:
        return con.execute(
            f"select count(*), count(distinct (id, updated)) from read_parquet('{raw}/charges/*.parquet')"
            f" where _dlt_load_id in ({committed})"
        ).fetchone()


# --- (a) the S3 endpoint stops ------------------------------------------------------------------


@pytest.mark.slow
def test_s3_endpoint_stopping_mid_load(tmp_path, s3):
    """The endpoint dies right after the first data file of the load reached it."""
    env, settings = s3_platform(tmp_path, s3, "payments")
    s3.stop_when(lambda method, path: method == "PUT" and "/raw/payments/" in path and path.endswith(".parquet"))

    failed, seconds = run_until(env, "payments", s3.stopped.is_set)

    line = assert_one_error_line(failed, f"the storage endpoint {s3.url} did not answer")
    print(f"failed {seconds:.1f} s after the endpoint stopped: {line}")
    assert len(pending_packages(settings.pipelines_dir / "payments")) == 1, "the load waits for the re-run"
    s3.start()  # same port, same objects
    partial = download_lake(s3, tmp_path / "before")
    assert_every_file_whole(partial)
    in_data, committed = lake_loads(platform_settings(tmp_path / "before"), "payments")
    assert in_data - committed, "a file of the interrupted load reached the lake before the stop"

    rerun(env, "payments")
    local = downloaded_whole(s3, tmp_path / "after")
    assert_loads_committed(local, "payments")
    landed, versions = payments_landed(local)
    assert landed == versions == payments.totals(payments.store_path(settings.sources_dir))["charge_count"]


@pytest.mark.slow
def test_s3_endpoint_stopping_mid_read(tmp_path, s3):
    """The endpoint dies while the partners pipeline reads the day's CSV files from landing/."""
    env, settings = s3_platform(tmp_path, s3, "partners")
    reads = []

    def tenth_landing_read(method: str, path: str) -> bool:
        if method == "GET" and "/landing/partners/" in path and path.endswith(".csv"):
            reads.append(path)
        return len(reads) >= 10

    s3.stop_when(tenth_landing_read)
    failed, seconds = run_until(env, "partners", s3.stopped.is_set)

    line = assert_one_error_line(failed, f"the storage endpoint {s3.url} did not answer")
    print(f"failed {seconds:.1f} s after the endpoint stopped: {line}")
    s3.start()
    before = download_lake(s3, tmp_path / "before")
    assert not (before / "raw").exists(), "nothing may be written before every file was read"
    assert not pending_packages(settings.pipelines_dir / "partners")

    rerun(env, "partners")
    local = downloaded_whole(s3, tmp_path / "after")
    assert_loads_committed(local, "partners")
    assert_partner_rows_once(local)


def assert_partner_rows_once(settings) -> int:
    """Rows loaded (committed) + quarantined = rows delivered in the distinct landing files."""
    delivered = delivered_partner_rows(settings)
    raw, quarantine = settings.zone_url("raw", "partners"), settings.zone_url("quarantine", "partners")
    with duck.connect() as con:
        loaded = con.execute(
            f"select count(*) from read_parquet('{raw}/partner_inventory/*.parquet') where _dlt_load_id in"
            f" (select load_id from read_json_auto('{raw}/_dlt_loads/*'))"
        ).fetchone()[0]
        quarantined = con.execute(
            f"select count(*) from read_parquet('{quarantine}/rejected_rows/*.parquet')"
        ).fetchone()[0]
    assert loaded + quarantined == delivered > 0
    return delivered


# --- (b) the disk fills up ----------------------------------------------------------------------


def fill(disk: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of the file system holding ``disk``."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    with filler.open("wb") as out:
        os.posix_fallocate(out.fileno(), 0, stat.f_bavail * stat.f_frsize - leave)
    return filler


def shop_platform(data_dir: Path, **overrides: str) -> tuple[dict[str, str], object]:
    settings = platform_settings(data_dir, **overrides)
    init_sources(settings, CUTOFF, only=())
    return platform_env(data_dir, **overrides), settings


def rerun_shop(env: dict[str, str], settings) -> None:
    """The same command again, the fault removed: every shop row version lands once, from committed loads."""
    rerun(env, "shop")
    assert_every_file_whole(Path(settings.lake_url))
    assert_loads_committed(settings, "shop")
    assert assert_lake_holds_exactly(settings, shop_file(settings)) > 0


@pytest.mark.slow
def test_lake_disk_full_mid_load(tmp_path, small_disk):
    """The lake's disk has 1 MiB left: the shop's first load fills it (its lineitem file alone is 2 MiB)."""
    lake = small_disk / "lake"
    env, settings = shop_platform(tmp_path / "data", LAKE_URL=str(lake))
    filler = fill(small_disk, leave=1024**2)

    failed, seconds = ingest(env, "shop")

    line = assert_one_error_line(failed, f"no space left on the device holding {lake}/raw/shop/", "free space there")
    print(f"failed in {seconds:.1f} s: {line}")
    assert len(pending_packages(settings.pipelines_dir / "shop")) == 1, "the load waits for the re-run"
    assert assert_every_file_whole(lake / "raw") > 0, "some files of the load landed whole"

    filler.unlink()
    rerun_shop(env, settings)


@pytest.mark.slow
def test_data_dir_disk_full_mid_extract(small_disk):
    """DATA_DIR (the shop database, dlt's working folder, the lake) has 1 MiB left when the shop is extracted."""
    env, settings = shop_platform(small_disk / "data")
    filler = fill(small_disk, leave=1024**2)

    failed, seconds = ingest(env, "shop")

    line = assert_one_error_line(failed, f"no space left on the device holding {settings.pipelines_dir}/shop")
    assert not pending_packages(settings.pipelines_dir / "shop"), "a failed extraction leaves no package"
    print(f"failed in {seconds:.1f} s: {line}")
    lake = Path(settings.lake_url)
    assert not any(lake.glob("raw/shop/*/*.parquet")), "nothing may land from a failed extraction"

    filler.unlink()
    rerun_shop(env, settings)


# --- (c) the lake turns read-only ---------------------------------------------------------------


@pytest.fixture
def read_only_lake(tmp_path):
    """Makes a folder read-only by bind-mounting it over itself read-only; undone after the test."""
    mounted = []

    def make_read_only(folder: Path) -> None:
        for command in (["mount", "--bind", folder, folder], ["mount", "-o", "remount,bind,ro", folder]):
            proc = subprocess.run([str(part) for part in command], capture_output=True, text=True)
            if proc.returncode != 0:
                pytest.skip(f"cannot bind-mount a folder read-only here (needs root): {proc.stderr.strip()}")
            mounted.append(folder)

    def make_writable() -> None:
        while mounted:
            subprocess.run(["umount", str(mounted.pop())], check=False)

    probe = tmp_path / "probe"
    probe.mkdir()
    make_read_only(probe)
    make_writable()
    yield make_read_only, make_writable
    make_writable()


@pytest.mark.slow
def test_lake_read_only_mid_load(tmp_path, read_only_lake):
    """The lake turns read-only once the shop's load has written its first table."""
    make_read_only, make_writable = read_only_lake
    env, settings = shop_platform(tmp_path / "data")
    lake = Path(settings.lake_url)
    working_dir = settings.pipelines_dir / "shop"

    def when_loading() -> bool:
        if phase_under_way(working_dir, "load"):
            make_read_only(lake)
            return True
        return False

    failed, seconds = run_until(env, "shop", when_loading)

    line = assert_one_error_line(failed, f"{lake}/raw", "is on a read-only file system")
    print(f"failed {seconds:.1f} s after the lake turned read-only: {line}")
    assert assert_every_file_whole(lake / "raw") > 0
    in_data, committed = lake_loads(settings, "shop")
    assert in_data - committed, "files of the interrupted load are in the lake (staging skips them)"

    make_writable()
    rerun_shop(env, settings)


# --- the faults themselves, each met for real, and the line it becomes --------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_endpoint_that_refuses_is_named_with_what_to_do():
    port = closed_port()
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.EndpointConnectionError) as caught:
        s3.list_objects_v2(Bucket=BUCKET)
    problem = storage_problem(caught.value)
    assert problem.startswith(f"the storage endpoint http://127.0.0.1:{port} did not answer (Could not connect"), (
        problem
    )
    assert problem.endswith(
        "check it is up and reachable, then run the same command again: it picks up where this run stopped"
    )


def test_a_full_device_is_named_with_what_to_do():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here, the device that is always full")
    with pytest.raises(OSError) as caught, open("/dev/full", "wb") as full:
        full.write(b"PAR1" * 4096)
        full.flush()
    assert caught.value.errno == errno.ENOSPC and caught.value.filename is None
    wrapped = RuntimeError("the load step failed")
    wrapped.__cause__ = caught.value
    # a write error names no file: the caller says which folder it was writing
    expected = f"no space left on the device holding /data/dlt/shop: free space there, {RERUN}"
    assert storage_problem(wrapped, where="/data/dlt/shop") == expected
    assert storage_problem(RuntimeError("the load step failed")) is None, "other errors keep their own message"


def test_a_read_only_folder_is_named_with_what_to_do(tmp_path, read_only_lake):
    make_read_only, _ = read_only_lake
    lake = tmp_path / "lake"
    lake.mkdir()
    make_read_only(lake)
    with pytest.raises(OSError) as caught:
        (lake / "raw").mkdir()
    assert caught.value.errno == errno.EROFS
    assert storage_problem(caught.value) == (
        f"{lake}/raw is on a read-only file system: make it writable again (remount it read-write), {RERUN}"
    )
