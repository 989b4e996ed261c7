"""The environment the tests and the benchmarks give the platform's commands: one helper for both.

Every run gets its own ``DATA_DIR`` (never the user's), the ``ci`` target, dbt's artifacts
beside its data (parallel runs must not share ``target/``), telemetry off, and none of the
caller's source or lake settings, so a developer's own ``.env`` cannot leak into a test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Settings that point at a user's data or change what the pipelines read.
_NOT_INHERITED = (
    "LAKE_URL",
    "SHOP_DB_URL",
    "SF",
    "INGEST_DESTINATION",
    "CLICKSTREAM_DELIVERY",
    "PAYMENTS_API_RATE_LIMIT",
    "SOURCES__PAYMENTS__BASE_URL",
    "SOURCES__PAYMENTS__TOKEN",
    # `make` exports it beside the user's DATA_DIR; unset, it follows the run's own DATA_DIR.
    "DBT_STATE_DIR",
)


def child_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for CLI and dbt runs against ``data_dir`` (telemetry off, ``ci`` target)."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        DATA_DIR=str(data_dir),
        DBT_TARGET="ci",
        DBT_PROFILES_DIR=str(ROOT / "profiles"),
        DBT_TARGET_PATH=str(data_dir / "target"),
        DBT_LOG_PATH=str(data_dir / "logs"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        PROVIDERS__ENABLE_AIRFLOW_SECRETS="false",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(overrides)
    # As the Makefile does: PostgreSQL gets the PII salt from PGOPTIONS (docs/security.md).
    if env.get("PII_SALT", "").strip() and "marketplace.pii_salt" not in env.get("PGOPTIONS", ""):
        env["PGOPTIONS"] = f"-c marketplace.pii_salt={env['PII_SALT'].strip()} {env.get('PGOPTIONS', '')}".strip()
    return env


def caller_env(**overrides: str) -> dict[str, str]:
    """This process's environment with ``overrides``, for a tool a command runs on the user's own data."""
    return {**os.environ, **overrides}
