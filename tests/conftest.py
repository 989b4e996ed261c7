"""Shared fixtures: every pipeline runs against a temporary DATA_DIR, never the user's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def platform_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for CLI and dbt runs against ``data_dir`` (telemetry off, CI target)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LAKE_URL", "SHOP_DB_URL", "SF")}
    env.update(
        DATA_DIR=str(data_dir),
        DBT_TARGET="ci",
        DBT_PROFILES_DIR=str(ROOT / "profiles"),
        # each run keeps dbt's artifacts beside its data: parallel runs must not share target/
        DBT_TARGET_PATH=str(data_dir / "target"),
        DBT_LOG_PATH=str(data_dir / "logs"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(overrides)
    return env


def run(cmd: Sequence[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """Run a command from the project root and fail the test with its output if it fails."""
    proc = subprocess.run(list(cmd), cwd=ROOT, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}"
            f"\n--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([str(BIN / "ingestion"), *args], env, check=check)


def dbt(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([str(BIN / "dbt"), *args], env, check=check)


@pytest.fixture(scope="session", autouse=True)
def shared_tpch_cache(tmp_path_factory):
    """Generate each TPC-H scale factor once per test session, not once per DATA_DIR."""
    cache = tmp_path_factory.mktemp("tpch-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("TPCH_CACHE_DIR", str(cache))
    yield cache
    patch.undo()


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory) -> dict[str, str]:
    """The whole platform at SF 0.01 in a temporary DATA_DIR: simulate, ingest, build.

    Returns the environment; ``DATA_DIR`` in it holds the lake and the warehouse.
    """
    env = platform_env(tmp_path_factory.mktemp("platform"), SF="0.01")
    cli(env, "sources", "init", "--sf", "0.01")
    cli(env, "ingest", "all")
    cli(env, "process", "all")
    dbt(env, "build")
    return env
