"""`marketplace docs`: the dbt docs and lineage site."""

from __future__ import annotations

import click

from ingestion.settings import load_settings


@click.group()
def docs() -> None:
    """The dbt docs and lineage site (models, sources, exposures and their lineage).

    \b
    Examples:
      marketplace docs serve                    # generate and serve on http://127.0.0.1:8080
      DOCS_PORT=8081 marketplace docs serve     # another port
    """


@docs.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default: DOCS_PORT, 8080).")
@click.option(
    "--no-generate",
    is_flag=True,
    help="Serve the site the last `dbt docs generate` wrote, without regenerating it.",
)
def serve(port: int | None, no_generate: bool) -> None:
    """Generate the dbt docs site on DBT_TARGET and serve it on http://127.0.0.1:DOCS_PORT.

    On the DuckDB targets (dev, ci) the warehouse must be built first (`make demo`).
    The site is dbt's own, written into DBT_TARGET_PATH (target/); Ctrl-C stops it.

    \b
    Examples:
      marketplace docs serve                    # make docs
      marketplace docs serve --port 8081        # or DOCS_PORT=8081 make docs
      marketplace docs serve --no-generate      # serve what the last generate wrote
    """
    from marketplace.docs_site import serve as serve_site

    serve_site(load_settings(), port=port, generate_first=not no_generate)
