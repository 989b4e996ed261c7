"""What the DAG ``marketplace_daily`` needs besides Airflow: its settings check, paths and commands.

No Airflow import here, so that these run (and are tested) without a scheduler.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import yaml

from ingestion.errors import PlatformError
from ingestion.pipelines import PIPELINES
from ingestion.settings import Settings, load_settings, unset_variables

# The folder that holds ``orchestration/``: the repository here, the dags/ folder on MWAA.
CODE_ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "marketplace_daily"
SOURCES = PIPELINES
# Targets whose warehouse takes one writer at a time (a DuckDB file, a local Spark
# metastore): the DAG runs one task at a time there; elsewhere independent tasks overlap.
SINGLE_WRITER_TARGETS = ("dev", "ci", "spark")
# With real sources nothing may fall back to a local stand-in: the CLI serves the
# simulated payments API when no base URL is set, and the shop defaults to a local file.
REAL_SOURCE_VARIABLES = ("SHOP_DB_URL", "SOURCES__PAYMENTS__BASE_URL", "SOURCES__PAYMENTS__TOKEN")
# A profile value that is a bare env_var('NAME') with no default: dbt cannot start without it.
_REQUIRED_ENV_VAR = re.compile(r"\{\{\s*env_var\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")


def dbt_project_dir(code_root: Path = CODE_ROOT) -> Path:
    """The dbt project: the repository root here, ``dags/dbt/`` in the MWAA bundle."""
    bundled = code_root / "dbt"
    return bundled if (bundled / "dbt_project.yml").exists() else code_root


def profiles_yml(project_dir: Path) -> Path:
    return project_dir / "profiles" / "profiles.yml"


def manifest_path(settings: Settings, project_dir: Path) -> Path:
    """The manifest the DAG renders its dbt task group from (``dbt parse`` writes it)."""
    return project_dir / settings.dbt_target_path / "manifest.json"


def executable(name: str) -> str:
    """A command installed beside this interpreter (the venv's bin), else found on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def cli(*args: str) -> str:
    """The shell command that runs ``marketplace ARGS`` with this interpreter (MWAA has no script)."""
    return " ".join([sys.executable, "-m", "marketplace", *args])


def dag_settings() -> Settings:
    """The settings that shape the DAG when the scheduler parses it.

    Never fails: with a bad setting the DAG takes its declared defaults, so that the run,
    not the parse, fails, at its first task (``check_settings``), naming the variable.
    """
    try:
        return load_settings()
    except PlatformError:
        return load_settings({})


def dbt_required_variables(target: str, profiles: Path) -> tuple[str, ...]:
    """Variables the target's profile reads with no default, in the profile's order."""
    output = yaml.safe_load(profiles.read_text())["marketplace"]["outputs"].get(target, {})
    found: list[str] = []
    for value in output.values():
        for name in _REQUIRED_ENV_VAR.findall(str(value)):
            if name not in found:
                found.append(name)
    return tuple(found)


def check_settings(project_dir: Path | None = None) -> str:
    """Validate every setting a run needs; a PlatformError names the first bad or missing one."""
    settings = load_settings()
    project_dir = project_dir or dbt_project_dir()
    required = dbt_required_variables(settings.dbt_target, profiles_yml(project_dir))
    needs = dict.fromkeys(required, f"dbt target {settings.dbt_target} needs it")
    if not settings.dag_simulated_sources:
        needs.update(dict.fromkeys(REAL_SOURCE_VARIABLES, "DAG_SIMULATED_SOURCES=false means real sources"))
    missing = unset_variables(tuple(needs))
    if missing:
        name = missing[0]
        raise PlatformError(f"{name} is not set: {needs[name]} (see .env.example)")
    sources = "simulated" if settings.dag_simulated_sources else "real"
    return f"settings valid: DBT_TARGET={settings.dbt_target}, LAKE_URL={settings.lake_url}, {sources} sources"
