"""The project's shape, checked from its source: who may import whom, who reads settings.

Runs in ``make lint`` too (AST only, under a second). Each check is a function over a
tree of files, so the tests below also prove that it fails on a violation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ingestion import settings
from marketplace.devenv import ROOT

# Platform packages never import the demo's simulated company, nor the CLI above them.
FORBIDDEN_IMPORTS = {
    "ingestion": ("simulator", "marketplace", "benchmarks", "tests"),
    "processing": ("simulator", "marketplace", "benchmarks", "tests"),
    "simulator": ("marketplace", "benchmarks", "tests"),
    # the consumer end reads the marts the platform built; it never drives the sources
    "dashboards": ("simulator", "marketplace", "benchmarks", "tests"),
    # the scheduler runs the platform's commands; what it simulates, it asks the CLI for
    "orchestration": ("simulator", "marketplace", "benchmarks", "tests"),
}
# Modules that may touch os.environ, and why. Everything else reads ingestion.settings.
ENVIRONMENT_READERS = {
    "ingestion/settings.py": "the settings module itself",
    "marketplace/devenv.py": "hands the caller's environment on to child processes (tests, benchmarks)",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def boundary_violations(root: Path) -> list[str]:
    found = []
    for package, forbidden in FORBIDDEN_IMPORTS.items():
        for path in sorted((root / package).rglob("*.py")):
            for module in imported_modules(path):
                if module.split(".")[0] in forbidden:
                    found.append(f"{path.relative_to(root)} imports {module}")
    return found


def _reads_environment(node: ast.AST) -> bool:
    """os.environ[...] / .get / .items ..., os.getenv: anything but os.environ.setdefault."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        target = node.func.value
        if isinstance(target, ast.Name) and target.id == "os" and node.func.attr == "getenv":
            return True
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def environment_readers(root: Path) -> list[str]:
    found = []
    for package in ("ingestion", "processing", "simulator", "marketplace", "benchmarks", "dashboards", "orchestration"):
        for path in sorted((root / package).rglob("*.py")):
            relative = str(path.relative_to(root))
            if relative in ENVIRONMENT_READERS:
                continue
            tree = ast.parse(path.read_text(), filename=relative)
            setdefaults = {
                id(node.func.value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "setdefault"
            }
            for node in ast.walk(tree):
                if _reads_environment(node) and id(node) not in setdefaults:
                    found.append(f"{relative}:{node.lineno} reads the environment")
    return found


def test_the_platform_never_imports_the_simulator():
    assert boundary_violations(ROOT) == []


def test_the_boundary_check_catches_a_violation(tmp_path):
    for package in FORBIDDEN_IMPORTS:
        (tmp_path / package).mkdir()
    (tmp_path / "ingestion" / "sneaky.py").write_text("from simulator.context import SimContext\n")
    (tmp_path / "processing" / "fine.py").write_text("import ingestion.settings\n")
    assert boundary_violations(tmp_path) == ["ingestion/sneaky.py imports simulator.context"]


def test_only_the_settings_module_reads_the_environment():
    assert environment_readers(ROOT) == []


def test_the_environment_check_catches_a_reader(tmp_path):
    for package in ("ingestion", "processing", "simulator", "marketplace", "benchmarks"):
        (tmp_path / package).mkdir()
    (tmp_path / "simulator" / "a.py").write_text("import os\nmode = os.environ.get('MODE')\n")
    (tmp_path / "processing" / "b.py").write_text("import os\nos.environ.setdefault('X', '1')\nos.getenv('Y')\n")
    assert environment_readers(tmp_path) == [
        "processing/b.py:3 reads the environment",
        "simulator/a.py:2 reads the environment",
    ]


@pytest.mark.parametrize(
    ("path", "render"),
    [(".env.example", settings.env_example), ("docs/settings.md", settings.settings_doc)],
    ids=["env-example", "settings-doc"],
)
def test_generated_settings_lists_are_up_to_date(path, render):
    assert (ROOT / path).read_text() == render(), f"regenerate it: marketplace settings ... > {path}"


def test_every_variable_dbt_reads_is_declared():
    declared = {v.name for v in settings.VARIABLES}
    used = set()
    dbt_files = [ROOT / "dbt_project.yml", *(ROOT / "profiles").glob("*.yml")]
    for folder in ("models", "macros", "snapshots", "seeds"):
        dbt_files += [*(ROOT / folder).rglob("*.yml"), *(ROOT / folder).rglob("*.sql")]
    for path in dbt_files:
        used |= set(re.findall(r"env_var\(\s*['\"]([A-Z0-9_]+)['\"]", path.read_text()))
    assert used, "no env_var() found: the scan is broken"
    assert sorted(used - declared) == []


def test_every_variable_is_documented_once():
    names = [v.name for v in settings.VARIABLES]
    assert len(names) == len(set(names))
    for var in settings.VARIABLES:
        assert var.meaning.strip() and var.read_by in settings.READERS, var.name
