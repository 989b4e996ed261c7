"""Shared fixtures: every pipeline runs against a temporary DATA_DIR, never the user's."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from ingestion.settings import Settings, load_settings
from marketplace.devenv import BIN, ROOT, child_env

# One environment helper for the tests and the benchmarks.
platform_env = child_env
# Where ``built_platform`` keeps each step's output, under its DATA_DIR.
STEP_LOGS = "step-logs"


def platform_settings(data_dir: Path, **overrides: str) -> Settings:
    """The settings a command run in ``platform_env(data_dir)`` sees (the shared TPC-H cache too)."""
    return load_settings(platform_env(data_dir, **overrides))


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
    return run([str(BIN / "marketplace"), *args], env, check=check)


def dbt(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([str(BIN / "dbt"), *args], env, check=check)


def pytest_addoption(parser):
    parser.addoption(
        "--screenshots-dir",
        default=None,
        help="Also copy the browser tests' screenshots here (make screenshots: docs/img).",
    )


@pytest.fixture
def busy_port():
    """A port some other program listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


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

    Returns the environment; ``DATA_DIR`` in it holds the lake and the warehouse, and each
    step's output in ``STEP_LOGS/<step>.log``.
    """
    # A PII salt only this session knows: tests/security/test_pii.py looks for it in every file.
    env = platform_env(tmp_path_factory.mktemp("platform"), SF="0.01", PII_SALT=f"pii-SALT-{uuid.uuid4().hex}")
    steps = {
        "simulate": lambda: cli(env, "simulate", "init", "--sf", "0.01"),
        "ingest": lambda: cli(env, "ingest", "all"),
        "process": lambda: cli(env, "process", "all"),
        "build": lambda: dbt(env, "build"),
    }
    logs = Path(env["DATA_DIR"]) / STEP_LOGS
    logs.mkdir(parents=True)
    for name, step in steps.items():
        proc = step()
        (logs / f"{name}.log").write_text(proc.stdout + proc.stderr)
    return env
