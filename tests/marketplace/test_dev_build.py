"""`make dev-build`: a change to one mart, in a copy of the project, builds and tests that
mart and its children in the sandbox, reads the rest from production, and leaves
production untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.settings import Settings, load_settings
from marketplace import dev_build
from marketplace.devenv import ROOT
from tests.conftest import cli, run

pytestmark = pytest.mark.e2e

# What dbt reads of a project (dbt_project.yml's paths, and the profiles).
PROJECT = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "data_tests", "analyses", "profiles")
MART = "fct_orders"
MART_ID = f"model.marketplace.{MART}"
NEW_COLUMN = "has_several_lines"


@pytest.fixture(scope="module")
def production(built_platform) -> tuple[dict[str, str], Settings]:
    """The built platform with its manifest saved as the state, the way `make build` saves it."""
    env = dict(built_platform)
    # DBT_STATE_DIR is unset (devenv), so this also checks that the Makefile's default and
    # the settings' default ($DATA_DIR/state/prod) are the same folder.
    assert "DBT_STATE_DIR" not in env
    run(["make", "save-state"], env)
    settings = load_settings(env)
    assert (settings.dbt_state_dir / "manifest.json").exists(), "make save-state wrote elsewhere than DBT_STATE_DIR"
    return env, settings


def copy_project(dest: Path) -> Path:
    dest.mkdir()
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def add_column_to_mart(project: Path) -> None:
    """The analyst's edit: a new column in the mart's SQL and, as its contract demands, its YAML."""
    sql = project / "models" / "marts" / "core" / f"{MART}.sql"
    text = sql.read_text()
    anchor = "        line_totals.line_count,\n"
    assert text.count(anchor) == 1, f"{sql} changed shape; pick another anchor"
    sql.write_text(text.replace(anchor, f"{anchor}        line_totals.line_count > 1 as {NEW_COLUMN},\n"))

    yml = project / "models" / "marts" / "core" / "_core__models.yml"
    text = yml.read_text()
    columns = text.index("    columns:\n", text.index(f"  - name: {MART}\n")) + len("    columns:\n")
    column = f"      - name: {NEW_COLUMN}\n        description: More than one line.\n        data_type: boolean\n"
    yml.write_text(text[:columns] + column + text[columns:])


def descendants(manifest: dict, unique_id: str) -> set[str]:
    """The node and everything downstream of it, from the manifest's child map."""
    found, todo = set(), [unique_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo += manifest["child_map"].get(node, [])
    return found


def ran(settings: Settings) -> dict[str, str]:
    """unique_id → status of what the sandbox run built or tested."""
    results = dev_build.sandbox_target_path(settings) / "run_results.json"
    return {node.unique_id: node.status for node in dev_build.built_nodes(results)}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> set[str]:
    query = "select column_name from information_schema.columns where table_catalog = ? and table_name = ?"
    return {row[0] for row in con.execute(query, [database, table]).fetchall()}


def assert_builds_nothing(env: dict[str, str], settings: Settings) -> None:
    """dev-build on the repository itself (the default project), which production was built from."""
    proc = cli(env, "dev-build")

    assert ran(settings) == {}
    assert "nothing changed since the last production build" in proc.stdout
    assert not dev_build.sandbox_path(settings).exists()


def test_an_unchanged_project_builds_nothing(production):
    assert_builds_nothing(*production)


def test_a_changed_mart_builds_it_and_its_children_only_in_the_sandbox(production, tmp_path):
    env, settings = production
    project = copy_project(tmp_path / "project")
    add_column_to_mart(project)
    warehouse = settings.warehouse_path
    before = (digest(warehouse), warehouse.stat().st_mtime_ns)

    proc = cli(env, "dev-build", "--project-dir", str(project))

    manifest = json.loads((settings.dbt_state_dir / "manifest.json").read_text())
    # Semantic models, metrics and analyses are downstream too, but dbt build has nothing to run for them.
    runnable = (*dev_build.BUILT_TYPES, "exposure")
    expected = {node for node in descendants(manifest, MART_ID) if node.split(".")[0] in runnable}
    built = ran(settings)
    models = {node for node in expected if node.startswith("model.")}
    assert MART_ID in models and len(models) > 1, f"{MART} has no children any more: pick a mart that has"
    assert set(built) == expected
    assert set(built.values()) <= {"success", "pass", "no-op"}, built
    assert "production (the warehouse and its manifest) is untouched" in proc.stdout
    for node in built:
        if node.startswith(("model.", "exposure.")):
            assert node.split(".")[2] in proc.stdout, f"the summary does not name {node}"

    assert (digest(warehouse), warehouse.stat().st_mtime_ns) == before, "dev-build wrote to the warehouse"
    with duckdb.connect(str(dev_build.sandbox_path(settings)), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        assert NEW_COLUMN in columns(con, "sandbox", MART)
        assert NEW_COLUMN not in columns(con, "warehouse", MART)
        # Only what was selected lives in the sandbox: every unchanged parent came from production.
        query = "select table_name from information_schema.tables where table_catalog = 'sandbox'"
        tables = {row[0] for row in con.execute(query).fetchall()}
        assert tables == {n.split(".")[2] for n in built if n.startswith("model.")}
        wrong = con.execute(f"select count(*) from sandbox.main.{MART} where {NEW_COLUMN} <> (line_count > 1)")
        assert wrong.fetchone()[0] == 0
        counts = con.execute(
            f"select (select count(*) from sandbox.main.{MART}), (select count(*) from warehouse.main.{MART})"
        ).fetchone()
        assert counts[0] == counts[1] > 0


def test_nothing_of_a_change_in_another_folder_lingers(production):
    """Back on the repository after the copy above: dbt's partial-parse cache, left by the
    copy in the sandbox's target path, once kept the copy's new column in the mart's
    contract, and the unchanged mart failed its contract check."""
    assert_builds_nothing(*production)
