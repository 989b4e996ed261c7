"""`make docs`: generate the dbt docs and lineage site and serve it on 127.0.0.1.

The site is dbt's own (``dbt docs generate`` writes ``index.html``, ``manifest.json`` and
``catalog.json`` into the target path); this module only checks what a user can get
wrong first (no warehouse yet, the port taken), runs dbt, and serves the folder.

Why a small ``http.server`` and not ``dbt docs serve``: dbt's server logs every request
to the terminal and ends in a traceback on Ctrl-C; ours is quiet, binds only loopback,
turns a port taken in the meantime into the same one-line error as the check before,
and stops cleanly. The files served are exactly the ones dbt wrote.
"""

from __future__ import annotations

import errno
import functools
import subprocess
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings
from marketplace.devenv import BIN, ROOT
from marketplace.lock import data_dir_lock
from marketplace.servers import HOST, require_free_port, require_warehouse

WHAT = "docs site"
PORT_SETTING = "DOCS_PORT"
# What `dbt docs generate` writes that the site loads in the browser.
SITE_FILES = ("index.html", "manifest.json", "catalog.json")


def site_dir(settings: Settings, project_dir: Path = ROOT) -> Path:
    """dbt's target path, where the site is generated: DBT_TARGET_PATH, relative to the project."""
    return project_dir / settings.dbt_target_path


def generate(settings: Settings, project_dir: Path = ROOT) -> Path:
    """Run ``dbt docs generate`` on the current target into its target path; return that folder."""
    target_path = site_dir(settings, project_dir)
    cmd = [
        str(BIN / "dbt"),
        "docs",
        "generate",
        "--quiet",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir / "profiles"),
        "--target",
        settings.dbt_target,
        "--target-path",
        str(target_path),
    ]
    print(f"Generating the docs site with dbt (target {settings.dbt_target}) into {target_path}", flush=True)
    # dbt prints its own errors (--quiet keeps only those); the one line below says what failed.
    # It opens the warehouse to read its catalog: under the DATA_DIR lock, like every writer.
    with data_dir_lock(settings, command="dbt docs generate"):
        proc = subprocess.run(cmd, cwd=project_dir)
    if proc.returncode != 0:
        command = f"dbt docs generate --target {settings.dbt_target}"
        raise PlatformError(f"`{command}` failed (exit {proc.returncode}); dbt's errors are above")
    return target_path


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the site's folder without a log line per request."""

    def log_message(self, format: str, *args) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-response (a closed tab, a reload) is not worth a traceback."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def bind(directory: Path, port: int) -> ThreadingHTTPServer:
    """The server on 127.0.0.1:port, or the one-line port error if something took the port meanwhile."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    try:
        return QuietServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        require_free_port(port, PORT_SETTING, WHAT)
        raise


def serve(settings: Settings, port: int | None = None, generate_first: bool = True, project_dir: Path = ROOT) -> None:
    """Check, generate (unless told not to), then serve the site until Ctrl-C."""
    port = settings.docs_port if port is None else port
    if settings.dbt_target in ("dev", "ci"):
        require_warehouse(settings.warehouse_path)
    require_free_port(port, PORT_SETTING, WHAT)
    directory = generate(settings, project_dir) if generate_first else site_dir(settings, project_dir)
    missing = [name for name in SITE_FILES if not (directory / name).exists()]
    if missing:
        raise PlatformError(
            f"no docs site in {directory} ({', '.join(missing)} missing): "
            "run `marketplace docs serve` without --no-generate (or `make docs`)"
        )
    server = bind(directory, port)
    print(f"Serving the dbt docs and lineage site on http://{HOST}:{port}/ (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped the docs site.", flush=True)
    finally:
        server.server_close()
