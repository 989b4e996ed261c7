"""What MWAA gets: requirements.txt in step with uv.lock, and the bundle's layout."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement

from ingestion.errors import PlatformError
from marketplace.devenv import ROOT
from orchestration import bundle, daily

REQUIREMENTS = ROOT / "orchestration" / "mwaa" / "requirements.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())


def requirements() -> list[Requirement]:
    lines = (line.strip() for line in REQUIREMENTS.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_requirement_is_a_dependency_pinned_as_locked():
    declared = {
        normalized(Requirement(spec).name): Requirement(spec)
        for spec in [*PYPROJECT["project"]["dependencies"], *PYPROJECT["dependency-groups"]["airflow"]]
    }
    locked = {normalized(p["name"]): p["version"] for p in LOCK["package"]}
    for req in requirements():
        name = normalized(req.name)
        assert name in declared, f"{req.name} is not a dependency in pyproject.toml"
        (pin,) = req.specifier
        assert pin.operator == "==" and pin.version == locked[name], f"{req}: uv.lock has {locked[name]}"
        assert pin.version in declared[name].specifier, f"{req} is outside pyproject's {declared[name]}"
        assert req.extras == declared[name].extras, f"{req.name}: extras differ from pyproject.toml"


def test_the_requirements_leave_out_spark_and_the_local_tools():
    names = {normalized(r.name) for r in requirements()}
    assert "astronomer-cosmos" in names and "dbt-core" in names
    assert not names & {"pyspark", "moto", "streamlit", "dbt-duckdb", "apache-airflow"}


def test_the_mwaa_template_reads_the_bundles_paths():
    template = yaml.load((ROOT / "infra" / "cloudformation" / "mwaa.yaml").read_text(), Loader=yaml.BaseLoader)
    env = template["Resources"]["Environment"]["Properties"]
    assert env["DagS3Path"] == "dags"
    assert env["RequirementsS3Path"] == "requirements.txt"
    assert env["StartupScriptS3Path"] == "startup.sh"
    assert "PluginsS3Path" not in env, "the DAG needs no plugins"


def test_the_bundle_lays_out_the_source_bucket(tmp_path, monkeypatch):
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text('{"nodes": {}}')
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    dest = bundle.bundle(tmp_path / "bucket")
    dags = dest / "dags"
    assert (dest / "requirements.txt").read_text() == REQUIREMENTS.read_text()
    assert (dest / "startup.sh").read_text().startswith("#!/bin/sh")
    assert (dags / f"{daily.DAG_ID}.py").exists()
    assert (dags / "dbt" / "dbt_project.yml").exists()
    assert (dags / "dbt" / "profiles" / "profiles.yml").exists()
    assert (dags / "dbt" / "target" / "manifest.json").read_text() == '{"nodes": {}}'
    for package in bundle.packages():
        assert (dags / package / "__init__.py").exists(), package
    # only the top-level DAG file is a DAG file: no second copy under orchestration/
    assert sorted(p.relative_to(dags).as_posix() for p in dags.rglob("marketplace_daily.py")) == [
        "marketplace_daily.py"
    ]
    assert not list(dags.rglob("__pycache__"))
    ignored = {line.rstrip("/") for line in (dags / ".airflowignore").read_text().splitlines() if line[:1] not in "#"}
    assert ignored - {""} == {p.name for p in dags.iterdir() if p.is_dir()}
    # the DAG finds the bundled project there, not the repository
    assert daily.dbt_project_dir(dags) == dags / "dbt"


def test_the_bundle_needs_a_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(PlatformError, match="no dbt manifest at"):
        bundle.bundle(tmp_path / "bucket")
