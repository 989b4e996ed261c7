"""`marketplace dev-build`: the analyst's change loop (build what changed, in a sandbox)."""

from __future__ import annotations

import click


@click.command(name="dev-build")
def dev_build() -> None:
    """Build and test only the models changed since the last production build, and their children."""
    raise click.ClickException("not built yet")
