"""Run a command as a child process and measure its wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Measured:
    seconds: float
    peak_mib: float
    stdout: str


def bench_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LAKE_URL", "SHOP_DB_URL")}
    env.update(
        DATA_DIR=str(data_dir),
        DBT_TARGET="ci",
        DBT_PROFILES_DIR=str(ROOT / "profiles"),
        DBT_TARGET_PATH=str(data_dir / "target"),
        DBT_LOG_PATH=str(data_dir / "logs"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(overrides)
    return env


def measure(args: list[str], env: dict[str, str]) -> Measured:
    """Wall time and peak resident memory (the child and everything it waited for)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{out[-4000:]}")
    return Measured(seconds, usage.ru_maxrss / 1024, out)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
