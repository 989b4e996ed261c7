"""Run a command as a child process and measure its wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

from marketplace.devenv import BIN, ROOT, child_env  # noqa: F401 (BIN: re-exported for the suites)

# The tests' environment helper, so benchmarks measure what the tests run.
bench_env = child_env


@dataclass
class Measured:
    seconds: float
    peak_mib: float
    stdout: str


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
