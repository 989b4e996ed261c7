"""The benchmarks' measure(): a command's peak memory is its own, not the benchmark's."""

from __future__ import annotations

import os
import sys

import pytest

from benchmarks.harness import measure

ALLOCATE = "import sys; block = bytearray(int(sys.argv[1]) * 2**20); block[::4096] = b'x' * len(block[::4096])"


def allocate(mib: int) -> list[str]:
    return [sys.executable, "-c", ALLOCATE, str(mib)]


def test_a_small_command_started_by_a_large_benchmark_is_measured_small():
    # The benchmark process holds 600 MiB (as it does after running a simulator in-process).
    held = bytearray(600 * 2**20)
    held[::4096] = b"x" * len(held[::4096])
    small = measure(allocate(1), dict(os.environ))
    large = measure(allocate(300), dict(os.environ))
    del held
    assert small.peak_mib < 100, small.peak_mib
    assert 300 <= large.peak_mib < 400, large.peak_mib


def test_a_failing_command_raises_with_its_output_and_exit_code():
    with pytest.raises(RuntimeError, match=r"exited 3:\n.*boom"):
        measure([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], dict(os.environ))


def test_a_command_that_cannot_start_fails():
    with pytest.raises(RuntimeError, match="exited 127"):
        measure(["/nonexistent/command"], dict(os.environ))
