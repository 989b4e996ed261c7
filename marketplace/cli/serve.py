"""`marketplace serve`: run a simulated source's API in the foreground."""

from __future__ import annotations

import click

from ingestion.errors import PlatformError
from ingestion.settings import load_settings


@click.group()
def serve() -> None:
    """Serve a simulated source system over HTTP (Ctrl-C stops it).

    \b
    Example:
      marketplace serve payments --port 8765
    """


@serve.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one).")
@click.option(
    "--rate-limit",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 429 with Retry-After.",
)
@click.option(
    "--retry-after", type=click.IntRange(0), default=1, show_default=True, help="Seconds named in Retry-After."
)
def payments(port: int, rate_limit: float, retry_after: int) -> None:
    """The Stripe-like payments API over the simulator's charges and refunds.

    The token is $SOURCES__PAYMENTS__TOKEN, or the local simulator's default
    (sk_test_local_simulator) when that is unset.

    \b
    Examples:
      marketplace serve payments --port 8765
      curl -H "Authorization: Bearer sk_test_local_simulator" \\
           "http://127.0.0.1:8765/v1/charges?limit=2"
      SOURCES__PAYMENTS__BASE_URL=http://127.0.0.1:8765 SOURCES__PAYMENTS__TOKEN=sk_test_local_simulator \\
           marketplace ingest payments
    """
    from ingestion.pipelines.payments.pipeline import configured_api
    from simulator import payments as provider
    from simulator import payments_api

    store = provider.store_path(load_settings().sources_dir)
    if not store.exists():
        raise PlatformError(f"no payments data at {store}: run `marketplace simulate init` first")
    token = configured_api()[1] or payments_api.LOCAL_TOKEN
    faults = payments_api.Faults(rate_limit=rate_limit, retry_after=retry_after)
    try:
        server = payments_api.PaymentsServer(("127.0.0.1", port), store, token, faults)
    except OSError as exc:
        raise PlatformError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
    click.echo(f"payments API on {server.url} (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
