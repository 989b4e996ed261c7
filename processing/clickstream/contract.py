"""What both clickstream engines agree on: paths, the event contract, quarantine reasons.

The Spark job imports this module too (ship it with ``--extra-py-files`` on Glue), so the
two engines cannot drift apart on what counts as a valid event.
"""

from __future__ import annotations

import hashlib

SOURCE = "clickstream"
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout_started", "order_placed")
REQUIRED_KEYS = ("event_id", "event_type", "event_at", "visitor_id")
ID_KEYS = ("customer_id", "part_id", "order_id")
# Keys a given event type cannot do without, beyond REQUIRED_KEYS.
TYPE_KEYS = {"product_view": "part_id", "add_to_cart": "part_id", "order_placed": "order_id"}
JSON_KEYS = (*REQUIRED_KEYS, *ID_KEYS, "page_url", "device")
# Firehose writes events as they arrive; one stamped after the hour it landed in is impossible.
FUTURE_TOLERANCE_HOURS = 1
DUCKDB_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%gZ"
SPARK_TIMESTAMP = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
ID_PATTERN = "^-?[0-9]{1,18}$"
# Landing files live in <root>/YYYY/MM/DD/HH/<name>.gz; the hour is their arrival time.
LANDING_GLOB = "*/*/*/*/*.gz"
LANDING_HOUR_PATTERN = r"([0-9]{4})/([0-9]{2})/([0-9]{2})/([0-9]{2})/[^/]+$"

REASONS = {
    "malformed_json": "the line is not a JSON object (starting with '{' on its own line)",
    "missing_key": "a required key (or the key its event type needs) is missing or empty",
    "unknown_event_type": f"event_type is not one of {', '.join(EVENT_TYPES)}",
    "bad_timestamp": "event_at is not a valid UTC timestamp or lies after the line arrived",
    "bad_value": "customer_id, part_id or order_id is not an integer",
}

EVENT_COLUMNS = (
    "event_id", "event_type", "event_at", "visitor_id", "customer_id", "part_id", "order_id",
    "page_url", "device", "source_file", "line_number", "landing_date", "batch_id",
)  # fmt: skip
QUARANTINE_COLUMNS = (
    "source_file", "line_number", "landing_date", "reason", "raw_line", "batch_id",
)  # fmt: skip
AUDIT_COLUMNS = (
    "batch_id", "source_file", "landing_date", "delivered", "processed", "quarantined",
    "duplicates", "engine", "processed_at",
)  # fmt: skip


def paths(lake_url: str) -> dict[str, str]:
    root = lake_url.rstrip("/")
    return {
        "landing": f"{root}/landing/{SOURCE}",
        "processed": f"{root}/processed/{SOURCE}",
        "quarantine": f"{root}/quarantine/{SOURCE}",
        # One Parquet per batch, one row per landing file: the bookmark and the counts.
        "audit": f"{root}/processed/{SOURCE}_audit",
    }


def relative_source(url: str) -> str:
    """``YYYY/MM/DD/HH/name.gz`` of a landing file, however the engine spells its URL."""
    return "/".join(url.rstrip("/").split("/")[-5:])


def batch_id(sources: list[str]) -> str:
    """Same files, same batch id: a batch redone after a crash overwrites its own output."""
    return hashlib.sha1("\n".join(sorted(sources)).encode()).hexdigest()[:16]
