"""Lay out the MWAA source bucket: ``python -m orchestration.bundle DEST``, then ``aws s3 sync DEST s3://BUCKET``.

    DEST/requirements.txt        orchestration/mwaa/requirements.txt
    DEST/startup.sh              orchestration/mwaa/startup.sh: the settings (edit it first)
    DEST/dags/marketplace_daily.py
    DEST/dags/.airflowignore     only the DAG file is parsed
    DEST/dags/<package>/         the platform's code (MWAA puts dags/ on sys.path)
    DEST/dags/dbt/               the dbt project, with target/manifest.json to render from

No plugins: the DAG needs none. The manifest is the one ``dbt parse`` wrote for the
current settings (DBT_TARGET_PATH); parse with the production target first.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import load_settings
from orchestration import daily

HERE = Path(__file__).resolve().parent
ROOT = daily.CODE_ROOT
DBT_FILES = ("dbt_project.yml",)
DBT_FOLDERS = ("models", "macros", "seeds", "snapshots", "analyses", "data_tests", "profiles")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "dags", "mwaa")


def packages() -> list[str]:
    """The platform's packages (the wheel's) and this one."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [*pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"], "orchestration"]


def bundle(dest: Path) -> Path:
    settings = load_settings()
    manifest = daily.manifest_path(settings, ROOT)
    if not manifest.exists():
        raise PlatformError(f"no dbt manifest at {manifest}: run `dbt parse --target {settings.dbt_target}` first")
    if dest.exists():
        raise PlatformError(f"{dest} exists: give a new folder")
    dags = dest / "dags"
    dags.mkdir(parents=True)
    for name in ("requirements.txt", "startup.sh"):
        shutil.copy2(HERE / "mwaa" / name, dest / name)
    shutil.copy2(HERE / "mwaa" / ".airflowignore", dags / ".airflowignore")
    shutil.copy2(HERE / "dags" / f"{daily.DAG_ID}.py", dags / f"{daily.DAG_ID}.py")
    for package in packages():
        shutil.copytree(ROOT / package, dags / package, ignore=_SKIP)
    project = dags / "dbt"
    project.mkdir()
    for name in DBT_FILES:
        shutil.copy2(ROOT / name, project / name)
    for name in DBT_FOLDERS:
        shutil.copytree(ROOT / name, project / name)
    (project / "target").mkdir()
    shutil.copy2(manifest, project / "target" / "manifest.json")
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m orchestration.bundle DEST")
    try:
        print(f"MWAA bundle in {bundle(Path(sys.argv[1]))}")
    except PlatformError as exc:
        sys.exit(f"error: {exc}")
