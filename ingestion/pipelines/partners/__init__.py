"""Partner suppliers' inventory and price files as dlt sources.

Files are listed and read with dlt's ``filesystem`` source from
``$LAKE_URL/landing/partners/<partner>/``. Which files were loaded lives in the
pipeline's state (path → SHA-256), committed with the load that carried them: a run
reads only new files, and a file delivered again (same bytes, same or another name)
loads nothing. Rows are checked against an explicit contract (``settings.py``); those
that fail it go to ``$LAKE_URL/quarantine/partners/`` with the reason, the file and the
line number, and every file's counts land in ``partner_files`` so that
data rows = loaded + quarantined can be checked file by file.
"""

from __future__ import annotations

import dlt

from ingestion.pipelines.partners.helpers import ParsedFile
from ingestion.pipelines.partners.settings import (
    FILE_COLUMNS,
    FROZEN,
    INVENTORY_COLUMNS,
    REJECT_COLUMNS,
)


@dlt.source(name="partners", max_table_nesting=0, schema_contract=FROZEN)
def partner_feeds(batch: list[ParsedFile]):
    """The rows of a batch of parsed files that meet the contract, and one row per file.

    Args:
        batch: files parsed by ``helpers.read_new_files``; recorded as loaded in the
            source state, so the next run skips them.
    """

    @dlt.resource(name="partner_inventory", columns=INVENTORY_COLUMNS, write_disposition="append")
    def partner_inventory():
        for parsed in batch:
            if parsed.rows:
                yield parsed.rows

    @dlt.resource(name="partner_files", columns=FILE_COLUMNS, write_disposition="append")
    def partner_files():
        state = dlt.current.source_state().setdefault("files", {})
        for parsed in batch:
            state[parsed.source_file] = parsed.sha256
            yield parsed.summary()

    return partner_inventory, partner_files


@dlt.source(name="partners", max_table_nesting=0, schema_contract=FROZEN)
def partner_rejects(batch: list[ParsedFile]):
    """Rows that failed the contract, for the quarantine zone.

    Files already quarantined (a batch whose main load failed and is being run again)
    are skipped, so a reject is never written twice.
    """

    @dlt.resource(name="rejected_rows", columns=REJECT_COLUMNS, write_disposition="append")
    def rejected_rows():
        done = dlt.current.source_state().setdefault("files", {})
        for parsed in batch:
            if parsed.rejects and parsed.sha256 not in done:
                done[parsed.sha256] = parsed.source_file
                yield parsed.rejects

    return rejected_rows
