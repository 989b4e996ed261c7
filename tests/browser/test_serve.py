"""The browser tests' server helper: a port taken between choosing it and binding it."""

from __future__ import annotations

import sys
import urllib.request

import pytest

from tests.browser import conftest


def test_a_server_whose_port_was_taken_starts_again_on_another(monkeypatch, tmp_path, busy_port):
    (tmp_path / "index.html").write_text("served")
    offered = iter([busy_port])
    real_free_port = conftest.free_port
    monkeypatch.setattr(conftest, "free_port", lambda: next(offered, None) or real_free_port())

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]

    server = conftest.serve(command, {}, "/index.html")
    url = next(server)
    try:
        assert not url.endswith(f":{busy_port}")
        with urllib.request.urlopen(f"{url}/index.html", timeout=10) as response:
            assert response.read() == b"served"
    finally:
        server.close()


def test_a_server_that_fails_for_another_reason_fails_the_test_with_its_output(tmp_path):
    def command(port: int) -> list[str]:
        return [sys.executable, "-c", "raise SystemExit('no site to serve')"]

    with pytest.raises(pytest.fail.Exception, match=r"(?s)exited 1 before answering.*no site to serve"):
        next(conftest.serve(command, {}, "/"))
