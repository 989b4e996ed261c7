"""The dashboard app without a browser (Streamlit's AppTest): what it says when there is nothing to show.

Every page over a real build is the browser test, tests/browser/test_dashboard.py.
"""

from __future__ import annotations

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from marketplace.devenv import ROOT

APP = ROOT / "dashboards" / "app" / "app.py"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    return AppTest.from_file(str(APP), default_timeout=60)


def test_without_a_warehouse_it_says_what_to_run(app, tmp_path):
    app.run()
    assert not app.exception
    (error,) = app.error
    assert "No warehouse at" in error.value and "make demo" in error.value


def test_without_a_semantic_manifest_the_overview_says_where_it_looked(app, tmp_path):
    (tmp_path / "data").mkdir()
    duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb")).close()
    app.run()
    assert not app.exception and not app.error
    (warning,) = app.warning
    assert f"No semantic manifest at {tmp_path / 'target' / 'semantic_manifest.json'}" in warning.value
    assert "DBT_TARGET_PATH" in warning.value
    assert not app.metric, "no headline number without the semantic layer"


def _revenue_page():
    from dashboards.app.views import revenue

    revenue.render()


def test_a_page_over_a_warehouse_without_marts_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb")).close()
    page = AppTest.from_function(_revenue_page, default_timeout=60).run()
    assert not page.exception
    (error,) = page.error
    assert "lacks a mart this page reads" in error.value and "make demo" in error.value
