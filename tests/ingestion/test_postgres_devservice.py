"""The throwaway PostgreSQL (``marketplace pg up``, the tests' clusters) and a port already taken."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg2
import pytest

from ingestion.devservices import postgres
from ingestion.errors import PlatformError


@pytest.fixture
def base():
    """A cluster folder under /tmp itself: as root the server runs as ``postgres``, which
    cannot enter pytest's private temporary folders."""
    try:
        postgres._binary("initdb")
    except PlatformError as exc:
        pytest.skip(str(exc))
    base = Path(tempfile.mkdtemp(prefix="pg-port-"))
    yield base
    postgres.stop(base, remove=True)


def test_a_port_taken_before_the_server_binds_it_is_replaced(base, busy_port, monkeypatch):
    # What two test workers can do to each other: the OS hands out a free port, and another
    # process binds it before PostgreSQL does.
    offered = iter([busy_port])
    free_port = postgres.free_port
    monkeypatch.setattr(postgres, "free_port", lambda: next(offered, None) or free_port())

    server = postgres.start(base)

    assert server.port != busy_port
    assert (base / "port").read_text() == str(server.port)
    con = psycopg2.connect(server.url)
    try:
        with con.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
    finally:
        con.close()


def test_a_taken_port_asked_for_is_named_with_the_servers_reason(base, busy_port):
    with pytest.raises(PlatformError, match=rf"could not listen on 127\.0\.0\.1:{busy_port}: .*could not bind"):
        postgres.start(base, port=busy_port)
    assert not (base / "port").exists()
    assert not (base / "pgdata" / "postmaster.pid").exists()
