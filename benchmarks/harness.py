"""Run a command as a child process and measure its wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
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


# Starts the measured command and reports its peak (wait4's ru_maxrss, KiB) on the file
# descriptor given first. Linux starts a new program's peak at the high-water mark of the
# process that started it, so a command started straight from the benchmark inherited
# the benchmark's own peak (the simulators it ran in-process): this small process, a few
# MiB, stands between them.
_LAUNCHER = """
import os, sys
report = int(sys.argv[1])
os.set_inheritable(report, False)
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
os.write(report, str(usage.ru_maxrss).encode())
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def measure(args: list[str], env: dict[str, str]) -> Measured:
    """Wall time and peak resident memory (the command and everything it waited for)."""
    started = time.perf_counter()
    report, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(write_end), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=(write_end,),
        )
    finally:
        os.close(write_end)
    try:
        out = proc.stdout.read() if proc.stdout else ""
        proc.wait()
        peak_kib = int(os.read(report, 64) or 0)
    finally:
        os.close(report)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{out[-4000:]}")
    return Measured(seconds, peak_kib / 1024, out)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
