"""A throwaway PostgreSQL cluster on 127.0.0.1: the shop's RDS and the Redshift rehearsal.

PostgreSQL refuses to run as root, so as root the cluster is created and started as the
``postgres`` user (``runuser``). Durability is switched off: this is test scaffolding.

    marketplace pg up [--dir DIR] [--port PORT]   # prints the URL
    marketplace pg down [--dir DIR] [--remove]
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import PlatformError

DEFAULT_DIR = Path("/tmp/marketplace-pg")  # PG_DIR in the settings
FAST_UNSAFE = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
PORT_ATTEMPTS = 5


@dataclass(frozen=True)
class PgServer:
    base_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise PlatformError(f"{name} not found: install the PostgreSQL server (e.g. apt-get install postgresql)")


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def _run(args: list[str]) -> None:
    proc = subprocess.run(_as_owner(args), capture_output=True, text=True)
    if proc.returncode != 0:
        raise PlatformError(f"{Path(args[0]).name} failed: {(proc.stderr or proc.stdout).strip()[:500]}")


def start(base_dir: Path = DEFAULT_DIR, port: int | None = None) -> PgServer:
    """Create (if needed) and start a cluster in ``base_dir``; returns where it listens."""
    base_dir = Path(base_dir)
    pgdata, sockets = base_dir / "pgdata", base_dir / "sockets"
    port_file = base_dir / "port"
    if (pgdata / "postmaster.pid").exists() and port_file.exists():
        return PgServer(base_dir, int(port_file.read_text()))
    base_dir.mkdir(parents=True, exist_ok=True)
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (base_dir, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        _run([_binary("initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--no-locale"])  # fmt: skip
    # A port the OS just handed out can be taken by another process before the server
    # binds it (two test workers starting clusters at once): then try another one.
    for attempt in range(1, PORT_ATTEMPTS + 1):
        chosen = port or free_port()
        try:
            _pg_ctl_start(base_dir, chosen)
            break
        except PortTaken as exc:
            if port or attempt == PORT_ATTEMPTS:
                raise PlatformError(f"PostgreSQL could not listen on 127.0.0.1:{chosen}: {exc}") from None
    port = chosen
    port_file.write_text(str(port))
    server = PgServer(base_dir, port)
    _wait_ready(server)
    return server


class PortTaken(Exception):
    """The server could not bind its port (what its log said)."""


def _pg_ctl_start(base_dir: Path, port: int) -> None:
    """``pg_ctl start`` on ``port``; a failure names the reason from the server's log."""
    pgdata, sockets, log = base_dir / "pgdata", base_dir / "sockets", base_dir / "server.log"
    logged = log.stat().st_size if log.exists() else 0
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} {FAST_UNSAFE}"
    proc = subprocess.run(
        _as_owner([_binary("pg_ctl"), "-D", str(pgdata), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]),
        capture_output=True,
        text=True,
    )
    if proc.returncode == 0:
        return
    # pg_ctl itself only says "could not start server"; the reason is in the log.
    reasons = []
    if log.exists():
        with open(log, errors="replace") as handle:
            handle.seek(logged)
            reasons = [line.strip() for line in handle if "FATAL" in line or "could not" in line]
    if any("could not bind" in line or "could not create any TCP/IP sockets" in line for line in reasons):
        raise PortTaken(reasons[0])
    detail = "; ".join(reasons[:3]) or (proc.stderr or proc.stdout).strip()[:500]
    raise PlatformError(f"pg_ctl failed to start PostgreSQL (log {log}): {detail}")


def _wait_ready(server: PgServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise PlatformError(f"PostgreSQL did not accept connections on port {server.port}") from None
            time.sleep(0.2)


def create_database(server: PgServer, name: str) -> str:
    """(Re)create database ``name``; returns its URL."""
    import psycopg2

    con = psycopg2.connect(server.url)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        con.close()
    return server.database_url(name)


def stop(base_dir: Path = DEFAULT_DIR, remove: bool = False) -> None:
    base_dir = Path(base_dir)
    pgdata = base_dir / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        _run([_binary("pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"])
    if remove:
        shutil.rmtree(base_dir, ignore_errors=True)
