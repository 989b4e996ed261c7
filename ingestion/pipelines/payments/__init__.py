"""The payments provider's REST API as a dlt source.

Built on dlt's ``rest_api`` source: cursor pagination (``next_cursor`` in the body,
``cursor`` in the query), incremental loading on ``updated`` for charges (a refund
changes its charge) and ``created`` for refunds, and a requests session that retries
429s after ``Retry-After`` seconds, 5xx bursts and truncated pages.

"Merge by id" happens in dbt, not in the lake: dlt's filesystem destination merges only
into Delta/Iceberg tables, and the raw zone keeps plain Parquet, append-only, one row per
version of a record, like every other raw source. Staging keeps the latest version of
each id, so loading a record twice never counts it twice.

Schema drift: every record must carry the fields staging reads, with their types
(``settings.RECORD_FIELDS``), or the run fails with nothing loaded; other new fields land.
"""

from __future__ import annotations

import dlt
from dlt.sources.rest_api import rest_api_resources

from ingestion.pipelines.payments.helpers import check_page, check_record, retrying_session
from ingestion.pipelines.payments.settings import BACKOFF_FACTOR, MAX_ATTEMPTS, PAGE_SIZE


@dlt.source(name="payments", max_table_nesting=1)
def payments_api(
    base_url: str = dlt.config.value,
    token: str = dlt.secrets.value,
    page_size: int = PAGE_SIZE,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_factor: float = BACKOFF_FACTOR,
):
    """Charges and refunds, each an incremental resource of the ``rest_api`` source.

    Args:
        base_url: root of the API, e.g. ``http://127.0.0.1:8765``.
        token: bearer token (``SOURCES__PAYMENTS__TOKEN``).
        page_size: rows per page (the API's ``limit``).
        max_attempts: tries per page before a 429, 5xx or truncated page fails the load.
        backoff_factor: seconds of the first wait when the API names none in Retry-After.
    """
    config = {
        "client": {
            "base_url": base_url,
            "auth": {"type": "bearer", "token": token},
            "paginator": {
                "type": "cursor",
                "cursor_path": "next_cursor",
                "cursor_param": "cursor",
            },
            "session": retrying_session(max_attempts, backoff_factor),
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "append",
            "endpoint": {
                "params": {"limit": page_size},
                "data_selector": "data",
                "response_actions": [check_page],
            },
        },
        "resources": [
            {
                "name": "charges",
                # Declared so the column exists even in a load with no failed charge.
                "columns": {"failure_code": {"data_type": "text", "nullable": True}},
                "endpoint": {
                    "path": "v1/charges",
                    "incremental": {
                        "start_param": "updated[gte]",
                        "cursor_path": "updated",
                        "initial_value": 0,
                    },
                },
            },
            {
                "name": "refunds",
                "endpoint": {
                    "path": "v1/refunds",
                    "incremental": {
                        "start_param": "created[gte]",
                        "cursor_path": "created",
                        "initial_value": 0,
                    },
                },
            },
        ],
    }
    for resource in rest_api_resources(config):
        yield resource.add_map(check_record(resource.name))
