"""Docs and contracts: every staging and mart column is described, every mart is typed.

dbt's manifest only knows the columns written in YAML, so a column the SQL adds without
a YAML entry would go unnoticed there. The checks compare the manifest with the columns
each model really has in the warehouse that the session's ``built_platform`` built (the
DuckDB ``ci`` target): a few queries on one manifest and one catalog, no extra dbt run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

DOCUMENTED = ("models/staging/", "models/marts/")
CONTRACTED = ("models/marts/",)


def models_under(manifest: dict, prefixes: tuple[str, ...]) -> dict[str, dict]:
    """This project's models whose SQL file lies under one of ``prefixes``, by name."""
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["package_name"] == "marketplace"
        and node["original_file_path"].startswith(prefixes)
    }


def warehouse_columns(database: Path, models: dict[str, dict]) -> dict[str, list[str]]:
    """Each model's columns as the warehouse has them (tables and views alike), in order."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            """
            select table_schema, table_name, column_name
            from information_schema.columns
            order by table_schema, table_name, ordinal_position
            """
        ).fetchall()
    by_relation: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        by_relation.setdefault((schema, table), []).append(column)
    return {
        name: by_relation[(node["schema"], node["alias"])]
        for name, node in models.items()
        if (node["schema"], node["alias"]) in by_relation
    }


def documentation_problems(manifest: dict, columns: dict[str, list[str]]) -> list[str]:
    """Staging and mart columns without a description, or YAML columns the model lacks."""
    problems = []
    for name, node in sorted(models_under(manifest, DOCUMENTED).items()):
        if name not in columns:
            problems.append(f"{name}: not in the warehouse, so its columns cannot be checked")
            continue
        documented = node["columns"]
        for column in columns[name]:
            if not (documented.get(column) or {}).get("description", "").strip():
                problems.append(f"{name}.{column}: no description")
        for column in sorted(set(documented) - set(columns[name])):
            problems.append(f"{name}.{column}: documented, but the model has no such column")
    return problems


def contract_problems(manifest: dict) -> list[str]:
    """Marts without an enforced contract, or with a column that declares no data_type."""
    problems = []
    for name, node in sorted(models_under(manifest, CONTRACTED).items()):
        if not node["config"].get("contract", {}).get("enforced"):
            problems.append(f"{name}: contract not enforced")
        if not node["columns"]:
            problems.append(f"{name}: no columns declared")
        for column, spec in node["columns"].items():
            if not (spec.get("data_type") or "").strip():
                problems.append(f"{name}.{column}: no data_type")
    return problems


@pytest.fixture(scope="module")
def built(built_platform) -> tuple[dict, dict[str, list[str]]]:
    """The manifest of the session's build and the warehouse columns of its models."""
    manifest = json.loads((Path(built_platform["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    models = models_under(manifest, DOCUMENTED)
    columns = warehouse_columns(Path(built_platform["DATA_DIR"]) / "warehouse.duckdb", models)
    return manifest, columns


def test_every_model_under_staging_and_marts_is_checked(built):
    """The checks see every SQL file in those folders, so none escapes them by omission."""
    manifest, columns = built
    files = {path.stem for prefix in DOCUMENTED for path in (ROOT / prefix).rglob("*.sql")}
    assert set(models_under(manifest, DOCUMENTED)) == files
    assert set(columns) == files


def test_every_staging_and_mart_column_is_documented(built):
    problems = documentation_problems(*built)
    assert not problems, "undocumented columns:\n" + "\n".join(problems)


def test_every_mart_has_an_enforced_contract_and_typed_columns(built):
    problems = contract_problems(built[0])
    assert not problems, "mart contracts:\n" + "\n".join(problems)


def _drop_description(manifest: dict, columns: dict) -> str:
    manifest["nodes"]["model.marketplace.stg_shop__orders"]["columns"]["order_id"]["description"] = ""
    return "stg_shop__orders.order_id: no description"


def _undeclared_column(manifest: dict, columns: dict) -> str:
    columns["fct_orders"].append("discount_code")
    return "fct_orders.discount_code: no description"


def _stale_column(manifest: dict, columns: dict) -> str:
    columns["stg_payments__charges"].remove("currency")
    return "stg_payments__charges.currency: documented, but the model has no such column"


def _missing_relation(manifest: dict, columns: dict) -> str:
    del columns["dim_parts"]
    return "dim_parts: not in the warehouse, so its columns cannot be checked"


def _drop_data_type(manifest: dict, columns: dict) -> str:
    manifest["nodes"]["model.marketplace.fct_sessions"]["columns"]["device"]["data_type"] = None
    return "fct_sessions.device: no data_type"


def _contract_off(manifest: dict, columns: dict) -> str:
    manifest["nodes"]["model.marketplace.dim_customers"]["config"]["contract"]["enforced"] = False
    return "dim_customers: contract not enforced"


@pytest.mark.parametrize(
    "break_it",
    [
        _drop_description,
        _undeclared_column,
        _stale_column,
        _missing_relation,
        _drop_data_type,
        _contract_off,
    ],
    ids=[
        "description-removed",
        "sql-column-not-in-yaml",
        "yaml-column-not-in-sql",
        "model-not-built",
        "data-type-removed",
        "contract-off",
    ],
)
def test_checks_report_a_violation(built, break_it):
    """Each check fails, naming the column, on the real manifest with one thing broken."""
    manifest, columns = copy.deepcopy(built[0]), copy.deepcopy(built[1])
    expected = break_it(manifest, columns)
    problems = documentation_problems(manifest, columns) + contract_problems(manifest)
    assert problems == [expected]
