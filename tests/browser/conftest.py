"""A real headless Chromium (Debian's package, installed by `make browser`) driven by Playwright.

Playwright never downloads a browser here: it launches the system one at ``CHROMIUM_PATH``.
Screenshots go to each test's output folder, and also to ``--screenshots-dir`` when given
(``make screenshots`` refreshes ``docs/img/`` that way).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from marketplace.devenv import ROOT

# Each test module here marks itself `browser` (a conftest's pytestmark marks nothing).

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs it (make test runs it first)")
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (Debian's chromium) or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request, tmp_path) -> Callable[..., Path]:
    """``screenshot(page, "name")`` saves ``name.png`` in the test's folder (and --screenshots-dir)."""
    extra = request.config.getoption("--screenshots-dir")

    def take(page, name: str, full_page: bool = True) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if extra:
            target = Path(extra) if Path(extra).is_absolute() else ROOT / extra
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)
        return path

    return take


PORT_ATTEMPTS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortTaken(Exception):
    """The server exited because another process took its port after free_port() chose it."""


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until ``url`` answers 200, failing with the server's output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            if "already in use" in out:
                raise PortTaken(out)
            pytest.fail(f"the server exited {proc.returncode} before answering {url}:\n{out[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


def serve(command: Callable[[int], Sequence[str]], env: dict[str, str], path: str = "/") -> Iterator[str]:
    """Start ``command(port)`` on a free port, wait for ``path`` to answer, yield the server's
    base URL, and stop it afterwards. free_port() only finds a port that was free: another
    test worker can take it before the server binds it, and the server then exits naming
    the port in use, so the next attempt takes another port."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            list(command(port)), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            try:
                wait_for_http(url + path, proc)
            except PortTaken as taken:
                if attempt == PORT_ATTEMPTS:
                    pytest.fail(f"{PORT_ATTEMPTS} ports were taken before the server could bind them:\n{taken}")
                continue
            yield url
            return
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
