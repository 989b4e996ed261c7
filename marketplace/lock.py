"""The DATA_DIR lock: one writer at a time on a data folder.

Every command that writes to ``DATA_DIR`` (the simulated sources, the lake, dlt's working
folder, the DuckDB warehouse) takes an exclusive ``flock`` on ``$DATA_DIR/.marketplace.lock``
for as long as it runs; a second writer waits up to ``LOCK_WAIT_SECONDS`` and then fails in
one line naming the process that holds it. The operating system releases the lock when
its holder exits, however it exits (SIGKILL included), so a crash never leaves a stale lock.

The lock file also records who holds it (pid, command, start time) for that message. It is
never deleted: removing a lock file another process has open would let two holders in.

A process whose ancestor holds the lock runs under it (``marketplace lock -- make ...``
holds it for every step make starts). Readers (dashboard, docs, report) never take it.
It guards one machine's folder: runs on several machines against one S3 lake need the
scheduler to keep them apart (one active run of the DAG).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings

LOCK_FILE = ".marketplace.lock"
POLL_SECONDS = 0.2


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / LOCK_FILE


def command_line(argv: Sequence[str] | None = None) -> str:
    """How the running command was typed: ``marketplace ingest all``, not the venv's full path."""
    argv = list(sys.argv if argv is None else argv)
    return " ".join([Path(argv[0]).name, *argv[1:]]) if argv else "?"


def holder(settings: Settings) -> dict | None:
    """Who holds the lock ({pid, command, started_at}), or None when nobody does."""
    path = lock_path(settings)
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(path)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _read_holder(path: Path) -> dict:
    # The holder writes its record just after taking the lock: give it a moment.
    for _ in range(10):
        try:
            record = json.loads(path.read_text() or "null")
        except (OSError, ValueError):
            record = None
        if record and _alive(record.get("pid", 0)):
            return record
        time.sleep(0.05)
    return record or {"pid": "?", "command": "an unknown process", "started_at": "?"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError):
        return True
    return True


def _parent(pid: int) -> int:
    try:  # Linux
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        out = subprocess.run(["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True, text=True).stdout
        return int(out.strip() or 0)


def _ancestors() -> Iterator[int]:
    pid = os.getppid()
    while pid > 1:
        yield pid
        pid = _parent(pid)


def describe(record: dict) -> str:
    return f"pid {record['pid']} ({record['command']}), started {record['started_at']}"


def _acquire(fd: int, settings: Settings, wait: float) -> bool:
    """Take the lock on ``fd`` (True), or find an ancestor holding it (False); else fail after ``wait``."""
    deadline = time.monotonic() + wait
    # A record naming a process that is gone: a reader (`marketplace lock`) held the lock
    # for an instant, or a new holder has not written its record yet; try again a moment.
    grace = time.monotonic() + 1.0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        record = _read_holder(lock_path(settings))
        if record.get("pid") in {os.getpid(), *_ancestors()}:
            return False
        now = time.monotonic()
        if now >= deadline and (now >= grace or _alive(record.get("pid"))):
            then = (
                f"waited {wait:g} s for it; raise LOCK_WAIT_SECONDS to wait longer"
                if wait
                else "wait for it to finish, or set LOCK_WAIT_SECONDS=<seconds> to wait for it"
            )
            raise PlatformError(f"{settings.data_dir} is in use by another run: {describe(record)}; {then}")
        time.sleep(POLL_SECONDS)


@contextmanager
def data_dir_lock(settings: Settings, command: str | None = None, wait: float | None = None) -> Iterator[int | None]:
    """Hold the DATA_DIR lock for the block; yields the lock's file descriptor (None when an
    ancestor process holds it and this one runs under it).

    ``wait`` (default ``LOCK_WAIT_SECONDS``): how long to wait for another holder, then fail.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(settings), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _acquire(fd, settings, settings.lock_wait_seconds if wait is None else wait):
            yield None
            return
        record = {
            "pid": os.getpid(),
            "command": command or command_line(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        yield fd
    finally:
        os.close(fd)  # the last descriptor of the lock closed releases it


def exec_locked(settings: Settings, command: Sequence[str]) -> None:
    """Take the lock, then become ``command`` (same pid): it holds the lock until it and every
    child that inherited the descriptor have exited."""
    with data_dir_lock(settings, command=" ".join(command)) as fd:
        if fd is not None:
            os.set_inheritable(fd, True)
        try:
            os.execvp(command[0], list(command))
        except OSError as exc:
            raise PlatformError(f"cannot run {command[0]}: {exc.strerror}") from None
