"""`marketplace lock`: run a command under the DATA_DIR lock, or say who holds it."""

from __future__ import annotations

import click

from ingestion.settings import load_settings
from marketplace import lock as data_dir_lock


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def lock(command: tuple[str, ...]) -> None:
    """Run COMMAND holding the DATA_DIR lock; with no command, say who holds it.

    `marketplace simulate`, `ingest` and `process` take the lock themselves; this runs
    anything else that writes to DATA_DIR under it (make build and make run run dbt so).
    A second writer waits up to LOCK_WAIT_SECONDS (default 0), then fails naming the
    holder. Processes COMMAND starts run under its lock. The lock goes with its holder,
    however it ends: a killed run leaves none behind.

    \b
    Examples:
      marketplace lock                              # who holds the lock, if anyone
      marketplace lock -- dbt build --target dev    # what make build runs
      marketplace lock -- make ingest process build # several steps, no writer in between
      LOCK_WAIT_SECONDS=600 marketplace lock -- dbt build
    """
    settings = load_settings()
    if command:
        data_dir_lock.exec_locked(settings, command)
    record = data_dir_lock.holder(settings)
    if record is None:
        click.echo(f"{settings.data_dir} is free: no run holds its lock")
    else:
        click.echo(f"{settings.data_dir} is in use: {data_dir_lock.describe(record)}")
