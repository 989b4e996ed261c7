"""A Redshift-shaped front for a local PostgreSQL server, for compiling with dbt-redshift.

Redshift speaks the PostgreSQL wire protocol; its driver (``redshift_connector``) only
adds startup parameters that Redshift knows and PostgreSQL rejects as unknown settings
(``client_protocol_version``, ``driver_version``, ...). This relay drops those from the
startup packet and passes every other byte through unchanged, so dbt-redshift runs its own
connection code and catalog queries (``information_schema``) against a real server.
The one other rewrite: the driver parses ``server_version`` strictly, so a distribution's
suffix ("15.18 (Debian 15.18-0+deb12u1)") is cut to the number ("15.18").
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading

SSL_REQUEST = 80877103
POSTGRES_STARTUP_KEYS = {"user", "database", "application_name", "options"}


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed during startup")
        data += chunk
    return data


def strip_startup(packet_body: bytes) -> bytes:
    """The startup body (protocol + key/value pairs) with only PostgreSQL's own keys kept."""
    protocol, rest = packet_body[:4], packet_body[4:]
    fields = rest.rstrip(b"\0").split(b"\0") if rest.strip(b"\0") else []
    pairs = zip(fields[::2], fields[1::2], strict=True)
    kept = b"".join(k + b"\0" + v + b"\0" for k, v in pairs if k.decode() in POSTGRES_STARTUP_KEYS)
    return protocol + kept + b"\0"


class RedshiftWireRelay:
    """Listens on 127.0.0.1 (a free port) and relays to PostgreSQL at ``upstream_port``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RedshiftWireRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            while True:
                (length,) = struct.unpack("!i", _recv_exact(client, 4))
                body = _recv_exact(client, length - 4)
                if struct.unpack("!i", body[:4])[0] != SSL_REQUEST:
                    break
                client.sendall(b"N")  # no TLS on the loopback relay; the client goes on in clear
            body = strip_startup(body)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            upstream.sendall(struct.pack("!i", len(body) + 4) + body)
            _relay_until_ready(upstream, client)
        except (ConnectionError, OSError, struct.error):
            client.close()
            return
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)


def _relay_until_ready(upstream: socket.socket, client: socket.socket) -> None:
    """Pass the server's authentication and parameter messages on, up to ReadyForQuery."""
    while True:
        kind = _recv_exact(upstream, 1)
        (length,) = struct.unpack("!i", _recv_exact(upstream, 4))
        body = _recv_exact(upstream, length - 4)
        if kind == b"S" and body.startswith(b"server_version\0"):
            number = re.match(rb"[0-9.]+", body.split(b"\0")[1]).group(0)
            body = b"server_version\0" + number + b"\0"
        client.sendall(kind + struct.pack("!i", len(body) + 4) + body)
        if kind in (b"Z", b"E"):
            return


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
