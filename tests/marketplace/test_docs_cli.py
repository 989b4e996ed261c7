"""`marketplace docs serve` on bad input: one line saying what to do, before dbt runs.

Each case runs the real command in a fresh ``DATA_DIR``. The cases that get past the
warehouse check give it a DuckDB file holding an empty ``fct_orders`` table, which is
all that check looks for; the full site is tested with a built platform in
tests/browser/test_docs_site.py.
"""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from marketplace.docs_site import bind
from marketplace.servers import require_free_port
from tests.browser.conftest import free_port
from tests.conftest import cli, platform_env


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def with_marts_table(data_dir: Path) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("create table fct_orders (order_id bigint)")


def one_line_error(proc) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("warehouse", ["none", "empty"], ids=["no-warehouse", "warehouse-without-marts"])
def test_before_any_build_it_says_to_run_make_demo(tmp_path, warehouse):
    if warehouse == "empty":
        duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    proc = cli(platform_env(tmp_path), "docs", "serve", "--port", str(free_port()), check=False)
    error = one_line_error(proc)
    assert "run `make demo` first" in error
    assert str(tmp_path / "warehouse.duckdb") in error
    assert proc.stdout == "", "dbt must not start before the check"


@pytest.mark.parametrize("how", ["option", "setting"], ids=["--port", "DOCS_PORT"])
def test_a_port_in_use_is_named_with_the_setting_that_moves_it(tmp_path, occupied_port, how):
    with_marts_table(tmp_path)
    if how == "option":
        env = platform_env(tmp_path)
        args = ("docs", "serve", "--port", str(occupied_port))
    else:
        env = platform_env(tmp_path, DOCS_PORT=str(occupied_port))
        args = ("docs", "serve")
    proc = cli(env, *args, check=False)
    error = one_line_error(proc)
    assert f"port {occupied_port} on 127.0.0.1 is already in use" in error
    assert "DOCS_PORT=<port>" in error
    assert proc.stdout == "", "nothing is generated when the site cannot be served"
    assert not (Path(env["DBT_TARGET_PATH"]) / "index.html").exists()


def test_no_generate_without_a_generated_site_says_what_to_run(tmp_path):
    with_marts_table(tmp_path)
    env = platform_env(tmp_path)
    proc = cli(env, "docs", "serve", "--no-generate", "--port", str(free_port()), check=False)
    error = one_line_error(proc)
    assert f"no docs site in {tmp_path / 'target'}" in error
    assert "without --no-generate" in error


def test_the_port_of_a_site_just_stopped_is_free_again(tmp_path):
    """Stopping and restarting `make docs` at once works: the last server's closed
    connections (TIME_WAIT on its port) do not count as the port being in use."""
    (tmp_path / "index.html").write_text("<html></html>")
    server = bind(tmp_path, free_port())
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as response:
        assert response.status == 200
    server.shutdown()
    server.server_close()
    thread.join()
    require_free_port(port, "DOCS_PORT", "docs site")
    bind(tmp_path, port).server_close()


def test_a_client_hanging_up_mid_response_prints_no_traceback(tmp_path, capfd):
    """A browser that closes a tab or reloads while a large file is sent (the manifest is
    megabytes) resets the connection; the server carries on without a traceback, and
    still reports errors of any other kind."""
    (tmp_path / "manifest.json").write_bytes(b"x" * 20_000_000)
    server = bind(tmp_path, free_port())
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"GET /manifest.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
            client.recv(1024)
            # a reset rather than a polite close: what a cancelled browser request looks like
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json", timeout=30) as response:
            assert len(response.read()) == 20_000_000  # still serving
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert "Traceback" not in capfd.readouterr().err
    try:
        raise ValueError("a real fault")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 0))
    assert "ValueError: a real fault" in capfd.readouterr().err
