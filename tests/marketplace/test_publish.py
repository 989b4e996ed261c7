"""`marketplace publish` refuses, in one line and before any build, what it cannot publish safely.

The full write-audit-publish runs are tests/reliability/test_write_audit_publish.py.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from ingestion.devservices import postgres
from marketplace.cli import main
from marketplace.publish import failures


def _publish(tmp_path, **env: str):
    base = {"DATA_DIR": str(tmp_path), **dict.fromkeys(("LAKE_URL", "SHOP_DB_URL", "SF", "DBT_STATE_DIR"))}
    return CliRunner().invoke(main, ["publish"], env={**base, **env})


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("target", ["redshift", "athena", "spark"])
def test_targets_it_cannot_run_point_at_the_documented_recipe(tmp_path, target):
    line = _one_line_error(_publish(tmp_path, DBT_TARGET=target))
    assert f"not {target}" in line and "docs/reliability.md" in line


def test_a_writer_holding_the_warehouse_stops_it_before_anything_is_copied(tmp_path):
    live = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(live)) as con:
        con.execute("create table orders as select 1 as order_id")
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    holder = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", holder, str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        line = _one_line_error(_publish(tmp_path, DBT_TARGET="ci"))
    finally:
        writer.kill()
        writer.wait()
    assert "open for writing by another process" in line and f"PID {writer.pid}" in line
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before
    assert not (tmp_path / "publish" / "warehouse.duckdb").exists()


def test_an_unreachable_postgres_is_one_line(tmp_path):
    line = _one_line_error(_publish(tmp_path, DBT_TARGET="pg", PG_PORT=str(postgres.free_port())))
    assert "cannot reach PostgreSQL" in line and "make pg-up" in line


def test_failures_name_the_stored_rows_of_failing_tests_and_the_message_of_errors(tmp_path):
    relation = '"warehouse"."main_dbt_test__audit"."unique_fct_orders_order_id"'
    unique = "unique_fct_orders_order_id"
    nodes = {
        f"test.marketplace.{unique}.1": {"name": unique, "relation_name": relation},
        "test.marketplace.not_null_x.2": {"name": "not_null_x", "relation_name": '"w"."a"."not_null_x"'},
        "model.marketplace.fct_orders": {"name": "fct_orders", "relation_name": '"warehouse"."main"."fct_orders"'},
        "model.marketplace.dim_parts": {"name": "dim_parts"},
    }
    results = [
        {"unique_id": f"test.marketplace.{unique}.1", "status": "fail", "failures": 3, "message": ""},
        {"unique_id": "test.marketplace.not_null_x.2", "status": "error", "failures": None, "message": "no\n column"},
        {"unique_id": "model.marketplace.fct_orders", "status": "error", "message": "Binder Error"},
        {"unique_id": "model.marketplace.dim_parts", "status": "success"},
    ]
    (tmp_path / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    lines = [failure.line("staging.duckdb") for failure in failures(tmp_path)]
    assert lines == [
        f"FAIL unique_fct_orders_order_id: 3 failing rows in {relation} (staging.duckdb)",
        "ERROR test not_null_x: no column",
        "ERROR model fct_orders: Binder Error",
    ]
