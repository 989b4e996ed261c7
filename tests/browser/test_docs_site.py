"""`marketplace docs serve` in a real Chromium: search for a mart, open it, read its lineage.

What the pages must show comes from the build itself, never from constants: the mart's
description from manifest.json, its columns and types from the warehouse, and the
lineage from manifest.json's parent and child maps (every source the mart is built from,
however many models lie between, and every exposure that uses it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from marketplace.devenv import BIN
from tests.browser.conftest import serve

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# A mart built from two sources (shop orders, payments) that the executive revenue dashboard uses.
MART = "fct_payment_reconciliation"
MART_ID = f"model.marketplace.{MART}"


@pytest.fixture(scope="module")
def docs_site(built_platform):
    """The site of the session's build, generated and served by the command users run."""
    server = serve(lambda port: [str(BIN / "marketplace"), "docs", "serve", "--port", str(port)], built_platform)
    url = next(server) + "/"
    # Read after the command's own `dbt docs generate`: the manifest the site shows.
    manifest = json.loads((Path(built_platform["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    yield url, manifest
    server.close()


def reachable(edges: dict[str, list[str]], unique_id: str) -> set[str]:
    """Every node reachable from ``unique_id`` along ``edges`` (the parent or the child map)."""
    seen, todo = set(), [unique_id]
    while todo:
        for neighbour in edges.get(todo.pop(), []):
            if neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return seen


def upstream_sources(manifest: dict, unique_id: str) -> set[str]:
    """Every source a node is built from, however many models lie between."""
    return {node for node in reachable(manifest["parent_map"], unique_id) if node.startswith("source.")}


def exposures_of(manifest: dict, unique_id: str) -> set[str]:
    return {child for child in manifest["child_map"][unique_id] if child.startswith("exposure.")}


def warehouse_columns(database: Path, node: dict) -> list[tuple[str, str]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            """
            select column_name, data_type from information_schema.columns
            where table_schema = ? and table_name = ? order by ordinal_position
            """,
            [node["schema"], node["alias"]],
        ).fetchall()


def collapsed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def plain(markdown: str) -> str:
    """The text a simple markdown paragraph renders to: inline code marks dropped."""
    return collapsed(markdown.replace("`", ""))


def test_search_opens_the_mart_with_its_description_and_columns(docs_site, built_platform, page, screenshot):
    url, manifest = docs_site
    node = manifest["nodes"][MART_ID]
    page.goto(url)
    page.fill("#search", MART)
    # Each search result links to its resource's page by unique id.
    result = page.locator(f'.search-result[href="#!/model/{MART_ID}"]')
    result.wait_for()
    result.click()
    page.wait_for_url(f"**/#!/model/{MART_ID}")

    description = page.locator("#description + .section-content .model-markdown")
    assert plain(description.inner_text()) == plain(node["description"])

    rows = page.locator("#columns + .section-content tr.column-row")
    rows.first.wait_for()
    shown = [
        (row.locator("td").nth(0).inner_text().strip(), row.locator("td").nth(1).inner_text().strip())
        for row in rows.all()
    ]
    # Names and types as the warehouse has them: the catalog dbt read when it generated the site.
    expected = warehouse_columns(Path(built_platform["DATA_DIR"]) / "warehouse.duckdb", node)
    assert expected, f"{MART} is not in the warehouse"
    assert shown == expected
    # And each column's description from the YAML, as text (the table does not render markdown).
    for row, (name, _) in zip(rows.all(), expected, strict=True):
        assert collapsed(row.locator("td").nth(2).inner_text()) == collapsed(node["columns"][name]["description"])
    screenshot(page, "docs-model", full_page=False)


# The graph is drawn by cytoscape on a <canvas>, so its labels are pixels, not DOM text.
# Cytoscape keeps its instance on its container element (dbt docs' #cy, as `_cyreg.cy`),
# and dbt docs gives each node the resource's unique_id: the test asks that instance
# which nodes it draws. Nodes the selection leaves out stay in the instance, hidden, so
# only visible ones count.
CYTOSCAPE = "(document.querySelector('#cy')?._cyreg ?? {}).cy"
# Resource types the picture leaves out, by their label in the graph's resources menu.
LEFT_OUT = {"test": "Tests", "unit_test": "Unit_tests", "analysis": "Analyses", "metric": "Metrics",
            "semantic_model": "Semantic_models"}  # fmt: skip


def drawn_nodes(page) -> set[str]:
    return set(page.evaluate(f"() => {CYTOSCAPE}.nodes().filter(node => node.visible()).map(node => node.id())"))


def test_lineage_graph_shows_the_marts_sources_and_exposures(docs_site, page, screenshot):
    url, manifest = docs_site
    sources = upstream_sources(manifest, MART_ID)
    exposures = exposures_of(manifest, MART_ID)
    assert sources and exposures, f"{MART} should be built from sources and used by an exposure"

    page.goto(f"{url}#!/model/{MART_ID}")
    page.click('a[title="View Lineage Graph"]')
    page.click('a[title="View Fullscreen"]')
    # Fullscreen, the graph selects the mart with all its ancestors and descendants.
    selection = page.locator('[ng-model="selectorService.selection.dirty.include"]')
    assert selection.input_value() == f"+{MART}+"

    # The mart's own node drawn means the layout is done.
    page.wait_for_function(
        "id => { const cy = " + CYTOSCAPE + "; return Boolean(cy) && cy.getElementById(id).visible(); }", arg=MART_ID
    )
    drawn = drawn_nodes(page)
    assert sources <= drawn, f"sources missing from the lineage graph: {sorted(sources - drawn)}"
    assert exposures <= drawn, f"exposures missing from the lineage graph: {sorted(exposures - drawn)}"
    # Models outside the mart's lineage are not drawn: the graph is the mart's, not everything.
    lineage = reachable(manifest["parent_map"], MART_ID) | reachable(manifest["child_map"], MART_ID)
    models = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    unrelated = models - lineage - {MART_ID}
    assert unrelated, f"every model is in {MART}'s lineage, so the graph's selection cannot be checked"
    assert not unrelated & drawn, f"models outside {MART}'s lineage drawn: {sorted(unrelated & drawn)}"

    # What an analyst does to read the data flow: keep sources, models and exposures only
    # (the resources menu), then Update Graph. The picture for the docs is this one.
    page.click("select[ng-click=\"onSelectClick('resource_types')\"]")
    menu = page.locator('li[ng-repeat="item in selectorService.options.resource_types"]')
    for label in LEFT_OUT.values():
        menu.filter(has_text=re.compile(rf"^\s*{label}\s*$")).click()
    page.click("#submit-graph-selection")
    page.wait_for_function(
        "types => " + CYTOSCAPE + ".nodes().filter(node => node.visible()"
        " && types.includes(node.id().split('.')[0])).empty()",
        arg=list(LEFT_OUT),
    )
    drawn = drawn_nodes(page)
    assert sources | exposures <= drawn
    assert {node.split(".")[0] for node in drawn} == {"source", "model", "exposure"}
    page.mouse.move(700, 150)  # off the buttons, so no tooltip covers the graph
    page.locator("#submit-graph-selection").blur()
    page.wait_for_timeout(1000)  # the layout's last animation frame
    screenshot(page, "lineage", full_page=False)
