"""The local servers the project starts listen on loopback only, never on every interface.

Each server is started the way the project starts it (the CLI command, or the function
that binds) and the operating system is asked which addresses its port listens on
(``psutil.net_connections``, i.e. /proc/net/tcp and tcp6): every one must be loopback. The
dashboard is Streamlit, started by ``os.execv``; its command line is checked instead
(the browser tests start it for real).
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from ingestion.devservices import postgres
from ingestion.errors import PlatformError
from marketplace import dashboard, docs_site
from tests.conftest import BIN, ROOT, platform_env
from tests.security.test_secrets import repository_files

pytestmark = pytest.mark.usefixtures("no_configured_payments_api")


def listening_addresses(port: int) -> set[str]:
    return {
        conn.laddr.ip
        for conn in psutil.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
    }


def assert_loopback_only(port: int) -> None:
    addresses = listening_addresses(port)
    assert addresses, f"nothing listens on port {port}"
    exposed = {ip for ip in addresses if not ipaddress.ip_address(ip.split("%")[0]).is_loopback}
    assert not exposed, f"port {port} listens beyond loopback: {sorted(exposed)}"


def test_the_check_sees_a_server_on_every_interface():
    """The check can fail: a socket bound to 0.0.0.0 is reported as exposed."""
    import socket

    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(AssertionError, match=r"listens beyond loopback: \['0\.0\.0\.0'\]"):
            assert_loopback_only(port)


def test_payments_api_serves_on_loopback_only(history):
    """`marketplace serve payments`, the simulated API a user runs by hand."""
    env = platform_env(history.settings.data_dir)
    server = subprocess.Popen(
        [str(BIN / "marketplace"), "serve", "payments"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stderr.readline()
        assert "payments API on http://" in line, line
        port = int(line.split("http://", 1)[1].split()[0].rsplit(":", 1)[1])
        assert_loopback_only(port)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_in_process_payments_api_serves_on_loopback_only(history):
    """The API `ingest payments` serves for the run when no real one is configured."""
    from simulator import payments, payments_api

    with payments_api.running(payments.store_path(history)) as server:
        assert_loopback_only(server.server_address[1])


def test_moto_serves_on_loopback_only():
    """moto's AWS as the Kinesis and engine tests start it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        assert_loopback_only(server.get_host_and_port()[1])
    finally:
        server.stop()


def test_every_moto_server_in_the_repository_is_bound_to_loopback():
    """The test above covers one start; every other place that starts moto names 127.0.0.1 too."""
    starts = [
        (name, line)
        for name in repository_files(ROOT)
        if name.endswith(".py")
        for line in (ROOT / name).read_text().splitlines()
        if "ThreadedMotoServer(" in line and "import" not in line
    ]
    assert len(starts) >= 2
    assert all('ip_address="127.0.0.1"' in line for _, line in starts), starts


def test_docs_site_serves_on_loopback_only(tmp_path):
    server = docs_site.bind(tmp_path, 0)
    try:
        assert_loopback_only(server.server_address[1])
    finally:
        server.server_close()


def test_dashboard_is_started_on_loopback_only():
    command = dashboard.command(8501)
    address = command[command.index("--server.address") + 1]
    assert ipaddress.ip_address(address).is_loopback
    assert command.count("--server.address") == 1


def test_throwaway_postgres_listens_on_loopback_only():
    """`marketplace pg up`: the cluster the pg target and the Postgres shop run against."""
    try:
        postgres._binary("initdb")
    except PlatformError as exc:
        pytest.skip(str(exc))
    # Under /tmp itself: as root the server runs as ``postgres``, which cannot enter pytest's 0700 folders.
    base = Path(tempfile.mkdtemp(prefix="security-pg-"))
    env = platform_env(base / "data")
    try:
        started = time.monotonic()
        up = subprocess.run(
            [str(BIN / "marketplace"), "pg", "up", "--dir", str(base)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert up.stdout.startswith("postgresql://"), up.stdout
        assert time.monotonic() - started < 120
        assert_loopback_only(int((base / "port").read_text()))
    finally:
        subprocess.run([str(BIN / "marketplace"), "pg", "down", "--dir", str(base), "--remove"], cwd=ROOT, env=env)
        shutil.rmtree(base, ignore_errors=True)
