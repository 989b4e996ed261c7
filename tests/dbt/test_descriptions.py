"""Every documented resource of the dbt project has a description on the docs site, and
every relation it names fits PostgreSQL's identifiers.

Models, sources (each source and each of its tables), seeds, snapshots, exposures,
analyses, singular data tests, semantic models and metrics: whatever the docs site shows
as a page of its own. Generic tests (``unique``, ``not_null``...) are left out: dbt names
them after their column and arguments, and the site shows them on their model's page.

Needs only ``dbt parse`` (no warehouse): the manifest goes to a temporary target path.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import dbt, platform_env

PACKAGE = "marketplace"
# The resource types the project has, each of which must be present and described.
DESCRIBED = ("model", "source", "seed", "snapshot", "exposure", "analysis", "test", "semantic_model", "metric")


def described_resources(manifest: dict) -> dict[str, dict]:
    """This project's resources the docs site gives a page of their own, by unique id."""
    found = {}
    for collection in ("nodes", "sources", "exposures", "semantic_models", "metrics"):
        for unique_id, node in manifest.get(collection, {}).items():
            if node["package_name"] != PACKAGE or node["resource_type"] not in DESCRIBED:
                continue
            if node["resource_type"] == "test" and node.get("test_metadata"):
                continue  # a generic test: described by its name and its model's page
            found[unique_id] = node
    return found


def description_problems(manifest: dict) -> list[str]:
    problems = []
    resources = described_resources(manifest)
    for unique_id, node in sorted(resources.items()):
        if not (node.get("description") or "").strip():
            problems.append(f"{unique_id} ({node['original_file_path']}): no description")
        if node["resource_type"] == "source" and not (node.get("source_description") or "").strip():
            where = f"{unique_id} ({node['original_file_path']})"
            problems.append(f"{where}: source {node['source_name']} has no description")
    present = {node["resource_type"] for node in resources.values()}
    problems += [f"no {kind} found in the manifest, so none was checked" for kind in DESCRIBED if kind not in present]
    return problems


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    env = platform_env(tmp_path_factory.mktemp("parse"))
    dbt(env, "parse", "--quiet")
    with open(f"{env['DBT_TARGET_PATH']}/manifest.json") as handle:
        return json.load(handle)


def test_every_resource_has_a_description(manifest):
    problems = description_problems(manifest)
    assert not problems, "resources without a description:\n" + "\n".join(problems)


def _model(manifest: dict) -> str:
    manifest["nodes"]["model.marketplace.fct_orders"]["description"] = "  "
    return "model.marketplace.fct_orders (models/marts/core/fct_orders.sql): no description"


def _source_table(manifest: dict) -> str:
    source = manifest["sources"]["source.marketplace.shop.orders"]
    source["description"] = ""
    return f"source.marketplace.shop.orders ({source['original_file_path']}): no description"


def _source(manifest: dict) -> str:
    source = manifest["sources"]["source.marketplace.payments.charges"]
    source["source_description"] = ""
    return f"source.marketplace.payments.charges ({source['original_file_path']}): source payments has no description"


def _exposure(manifest: dict) -> str:
    exposure = manifest["exposures"]["exposure.marketplace.executive_revenue_dashboard"]
    exposure["description"] = ""
    return f"exposure.marketplace.executive_revenue_dashboard ({exposure['original_file_path']}): no description"


def _no_snapshots(manifest: dict) -> str:
    for unique_id in [u for u, node in manifest["nodes"].items() if node["resource_type"] == "snapshot"]:
        del manifest["nodes"][unique_id]
    return "no snapshot found in the manifest, so none was checked"


@pytest.mark.parametrize(
    "break_it",
    [_model, _source_table, _source, _exposure, _no_snapshots],
    ids=["model", "source-table", "source", "exposure", "nothing-to-check"],
)
def test_the_check_reports_a_missing_description(manifest, break_it):
    """The check fails, naming the resource, on the real manifest with one description removed."""
    broken = copy.deepcopy(manifest)
    expected = break_it(broken)
    assert description_problems(broken) == [expected]


# PostgreSQL and Redshift identifiers: at most 63 bytes, and dbt refuses a longer relation
# name. A unit test's fixture is a relation named after the test, so a long name passes on
# DuckDB and fails only in `make test-slow`'s PostgreSQL builds.
IDENTIFIER_LIMIT = 63
NAMED_RELATIONS = ("model", "seed", "snapshot", "unit_test")


def long_relation_names(manifest: dict) -> list[str]:
    problems = []
    for collection in ("nodes", "unit_tests"):
        for unique_id, node in sorted(manifest.get(collection, {}).items()):
            if node["package_name"] != PACKAGE or node["resource_type"] not in NAMED_RELATIONS:
                continue
            name = node.get("alias") or node["name"]
            if len(name.encode()) > IDENTIFIER_LIMIT:
                problems.append(f"{unique_id}: {name!r} is {len(name.encode())} bytes, over {IDENTIFIER_LIMIT}")
    return problems


def test_every_relation_name_fits_a_postgres_identifier(manifest):
    assert manifest.get("unit_tests"), "no unit test in the manifest, so none was checked"
    problems = long_relation_names(manifest)
    assert not problems, "names PostgreSQL refuses:\n" + "\n".join(problems)


def test_the_name_check_reports_a_long_unit_test(manifest):
    broken = copy.deepcopy(manifest)
    unique_id, unit_test = sorted(broken["unit_tests"].items())[0]
    unit_test["name"] = "u" * 64
    assert long_relation_names(broken) == [f"{unique_id}: {'u' * 64!r} is 64 bytes, over 63"]
