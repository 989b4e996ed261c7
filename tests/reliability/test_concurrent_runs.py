"""Concurrent runs (issue 13, scenario 7): one writer at a time on a DATA_DIR.

Real CLI processes on one temporary DATA_DIR: a second writer fails fast naming the
first (or waits for it, with LOCK_WAIT_SECONDS); a killed holder leaves no stale lock;
the DuckDB warehouse is never opened for writing by two processes, because the
platform's lock refuses the second one before DuckDB's own lock would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marketplace.devenv import BIN, ROOT
from marketplace.lock import LOCK_FILE
from tests.conftest import cli, platform_env
from tests.reliability.crashes import start

pytestmark = pytest.mark.e2e

MARKETPLACE = str(BIN / "marketplace")
# Opens the warehouse for writing, as dbt does, and holds it until its stdin closes.
OPEN_WAREHOUSE = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('opened', flush=True); sys.stdin.read()"


def lock_record(data_dir: Path) -> dict:
    try:
        return json.loads((data_dir / LOCK_FILE).read_text() or "{}")
    except (OSError, ValueError):
        return {}


def wait_for_holder(data_dir: Path, proc: subprocess.Popen, timeout: float = 120) -> dict:
    """The lock record once ``proc`` has taken the lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = lock_record(data_dir)
        if record.get("pid") == proc.pid:
            return record
        assert proc.poll() is None, f"the holder exited {proc.returncode}: {proc.communicate()}"
        time.sleep(0.1)
    pytest.fail(f"{proc.args} did not take the lock in {timeout} s")


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def refusal(data_dir: Path, record: dict) -> str:
    return (
        f"error: {data_dir} is in use by another run: pid {record['pid']} ({record['command']}), "
        f"started {record['started_at']}; "
    )


def test_a_second_writer_fails_fast_naming_the_running_one(tmp_path):
    data_dir = tmp_path / "data"
    env = platform_env(data_dir, SF="0.01")
    holder = start(env, MARKETPLACE, "simulate", "init", "--sf", "0.01", "--cutoff", "1998-07-25")
    record = wait_for_holder(data_dir, holder)
    assert record["command"] == "marketplace simulate init --sf 0.01 --cutoff 1998-07-25"
    os.killpg(holder.pid, signal.SIGSTOP)  # it stays mid-run, holding the lock, for as long as the test needs
    try:
        writers = {
            "ingest": start(env, MARKETPLACE, "ingest", "all"),
            "process": start(env, MARKETPLACE, "process", "all"),
            "advance": start(env, MARKETPLACE, "simulate", "advance", "--days", "1"),
            "make build": start(env, "make", "build"),
        }
        status = start(env, MARKETPLACE, "lock")
        report = start(env, MARKETPLACE, "report")
        results = {name: finish(proc) for name, proc in writers.items()}
        status_rc, status_out, _ = finish(status)
        report_rc, _, report_err = finish(report)
    finally:
        os.killpg(holder.pid, signal.SIGCONT)

    expected = refusal(data_dir, record)
    for name, (rc, out, err) in results.items():
        assert rc != 0, f"{name} ran beside the holder: {out}{err}"
        assert "Traceback" not in err, err
        assert error_lines(err) == [error_lines(err)[0]] and error_lines(err)[0].startswith(expected), (name, err)
        assert error_lines(err)[0].endswith("or set LOCK_WAIT_SECONDS=<seconds> to wait for it"), err
    assert status_rc == 0 and f"is in use: pid {record['pid']} (marketplace simulate init" in status_out
    # A reader does not take the lock: report fails only because nothing is built yet.
    assert report_rc == 1 and "no warehouse at" in report_err and "in use" not in report_err, report_err
    rc, out, err = finish(holder)
    assert rc == 0, f"the holder did not survive its competitors: {out}{err}"
    assert "sources initialised" in out
    assert "is free" in cli(env, "lock").stdout


def test_the_warehouse_is_never_opened_by_two_writers(tmp_path):
    data_dir = tmp_path / "data"
    env = platform_env(data_dir)
    warehouse = str(data_dir / "warehouse.duckdb")
    python = sys.executable
    holder = start(env, MARKETPLACE, "lock", "--", python, "-c", OPEN_WAREHOUSE, warehouse, stdin=subprocess.PIPE)
    try:
        record = wait_for_holder(data_dir, holder)
        assert holder.stdout.readline().strip() == "opened"
        # Through the platform, a second writer is refused before it opens the file ...
        locked = cli(env, "lock", "--", python, "-c", OPEN_WAREHOUSE, warehouse, check=False)
        # ... as dbt is under `make build`; without the lock, DuckDB's own lock would refuse it.
        dbt_build = cli(env, "lock", "--", str(BIN / "dbt"), "build", check=False)
        unlocked = subprocess.run(
            [python, "-c", OPEN_WAREHOUSE, warehouse], env=env, input="", capture_output=True, text=True
        )
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    for proc in (locked, dbt_build):
        assert proc.returncode == 1 and proc.stderr.startswith(refusal(data_dir, record)), proc.stderr
        assert "opened" not in proc.stdout and "lock on file" not in proc.stdout + proc.stderr
    assert unlocked.returncode == 1 and "Could not set lock on file" in unlocked.stderr, unlocked.stderr


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    data_dir = tmp_path / "data"
    env = platform_env(data_dir)
    holder = start(env, MARKETPLACE, "lock", "--", "sleep", "600")
    wait_for_holder(data_dir, holder)
    assert cli(env, "lock", "--", "true", check=False).returncode == 1
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (data_dir / LOCK_FILE).exists(), "the record stays; the OS lock went with its holder"
    assert cli(env, "lock", "--", "true").returncode == 0


def test_a_writer_waits_up_to_lock_wait_seconds(tmp_path):
    data_dir = tmp_path / "data"
    env = platform_env(data_dir)
    holder = start(env, MARKETPLACE, "lock", "--", "sleep", "600")
    try:
        record = wait_for_holder(data_dir, holder)
        began = time.monotonic()
        timed_out = cli({**env, "LOCK_WAIT_SECONDS": "2"}, "lock", "--", "true", check=False)
        assert time.monotonic() - began >= 2
        assert timed_out.returncode == 1
        assert timed_out.stderr.strip() == (
            refusal(data_dir, record) + "waited 2 s for it; raise LOCK_WAIT_SECONDS to wait longer"
        )
        waiter = start({**env, "LOCK_WAIT_SECONDS": "300"}, MARKETPLACE, "lock", "--", "date", "+%s.%N")
        time.sleep(2 * (time.monotonic() - began))  # past the waiter's start-up: it is waiting now
        released = time.time()
    finally:
        os.killpg(holder.pid, signal.SIGTERM)
    rc, out, err = finish(waiter)
    assert rc == 0, err
    assert float(out) >= released, "the waiter ran before the holder let go"


def test_a_command_run_under_the_lock_runs_its_own_writers(tmp_path):
    """`make run` holds the lock for all its steps: the steps it starts run under it."""
    env = platform_env(tmp_path / "data")
    nested = cli(env, "lock", "--", "bash", "-c", f"{MARKETPLACE} lock -- echo inner")
    assert nested.stdout.strip() == "inner"
    dry_run = subprocess.run(["make", "-n", "run"], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    assert "marketplace lock -- make ingest process build freshness" in dry_run
