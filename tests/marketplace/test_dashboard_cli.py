"""`marketplace dashboard serve` refuses, in one line, to start where it could show nothing or bind nothing.

Each case runs the real command in a child process with a time limit: were a check to
let it through, it would become a Streamlit server, and the test would fail on the
timeout instead of hanging. The happy path (every page over a built warehouse) is the
browser test, tests/browser/test_dashboard.py.
"""

from __future__ import annotations

import subprocess

import duckdb
import pytest

from marketplace.devenv import BIN, ROOT, child_env


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def invoke(data_dir):
    def _invoke(*args: str, **env: str) -> subprocess.CompletedProcess:
        environment = child_env(data_dir, **env)
        if "DASHBOARD_PORT" not in env:
            environment.pop("DASHBOARD_PORT", None)
        cmd = [str(BIN / "marketplace"), *args]
        try:
            return subprocess.run(cmd, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{' '.join(args)} did not refuse: it was still running after 60 s")

    return _invoke


@pytest.fixture
def built_warehouse(data_dir):
    """A warehouse holding the mart the server checks for: enough to get past the build check."""
    data_dir.mkdir(parents=True)
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("create table fct_orders (order_id bigint)")
    return data_dir / "warehouse.duckdb"


def one_line_error(result: subprocess.CompletedProcess) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_before_any_build_it_says_to_run_make_demo(invoke, data_dir):
    line = one_line_error(invoke("dashboard", "serve"))
    assert "make demo" in line and str(data_dir / "warehouse.duckdb") in line
    assert not data_dir.exists(), "the check must not create a warehouse"


def test_a_warehouse_without_marts_says_to_run_make_demo(invoke, data_dir):
    data_dir.mkdir(parents=True)
    duckdb.connect(str(data_dir / "warehouse.duckdb")).close()
    line = one_line_error(invoke("dashboard", "serve"))
    assert "has no marts yet" in line and "make demo" in line


@pytest.mark.parametrize("how", ["flag", "setting"])
def test_a_port_in_use_is_named_with_the_setting_that_moves_it(invoke, built_warehouse, busy_port, how):
    args, env = (["--port", str(busy_port)], {}) if how == "flag" else ([], {"DASHBOARD_PORT": str(busy_port)})
    line = one_line_error(invoke("dashboard", "serve", *args, **env))
    assert f"port {busy_port}" in line and "already in use" in line and "DASHBOARD_PORT" in line


def test_a_port_out_of_range_is_refused(invoke, built_warehouse):
    result = invoke("dashboard", "serve", **{"DASHBOARD_PORT": "70000"})
    assert "DASHBOARD_PORT=70000 is out of range" in one_line_error(result)
