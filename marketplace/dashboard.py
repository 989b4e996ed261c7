"""`make dashboard`: the Streamlit app in dashboards/app/ on localhost, over the built marts."""

from __future__ import annotations

import os

from ingestion.settings import Settings
from marketplace.devenv import BIN, ROOT
from marketplace.servers import HOST, require_free_port, require_warehouse

APP = ROOT / "dashboards" / "app" / "app.py"


def command(port: int) -> list[str]:
    """Streamlit on loopback only, no browser opened, no usage statistics sent."""
    return [
        str(BIN / "streamlit"),
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        HOST,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        # a viewer's toolbar: no "Deploy" button, no developer menu
        "--client.toolbarMode",
        "viewer",
    ]


def serve(settings: Settings, port: int | None = None) -> None:
    """Check that there is something to show and somewhere to show it, then become the server."""
    port = port or settings.dashboard_port
    require_warehouse(settings.warehouse_path)
    require_free_port(port, "DASHBOARD_PORT", "dashboard")
    print(f"Dashboard on http://{HOST}:{port} (warehouse {settings.warehouse_path}); Ctrl-C stops it", flush=True)
    # The flag above wins over config files; the variable also reaches whatever Streamlit starts.
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    cmd = command(port)
    os.execv(cmd[0], cmd)
