"""`make bi`: parse the dbt project, then write the QuickSight and Tableau definitions."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings
from marketplace.devenv import BIN, ROOT, child_env


@contextmanager
def parsed_manifest(settings: Settings) -> Iterator[Path]:
    """A fresh ``manifest.json`` of this checkout, from `dbt parse` into a temporary target path.

    Parsing every time (about ten seconds) means the definitions always match the YAML as it
    is now, never a stale ``target/`` of an older checkout. The ``ci`` target parses without
    any warehouse credentials; the marts' columns and types are the same for every target.
    """
    with tempfile.TemporaryDirectory(prefix="marketplace-bi-") as tmp:
        target = Path(tmp) / "target"
        env = child_env(settings.data_dir, DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(Path(tmp) / "logs"))
        proc = subprocess.run([str(BIN / "dbt"), "parse", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            detail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
            raise PlatformError(f"`dbt parse` failed (exit {proc.returncode}): {detail[0]}")
        yield target / "manifest.json"
