"""Constants of the partners pipeline: the feed contract and where things go."""

PIPELINE_NAME = "partners"
QUARANTINE_PIPELINE_NAME = "partners_quarantine"
DATASET_NAME = "partners"
FILE_GLOB = "*/*.csv"

# The partners we have onboarded: landing folder → the shop's supplier key.
PARTNER_SUPPLIERS = {"acme": 1, "globex": 2, "initech": 3}

# The contract. Headers are matched after trimming, lower-casing and turning spaces into
# underscores, so "  Unit Price " is unit_price; columns may come in any order.
REQUIRED_COLUMNS = ("part_id", "qty_available", "unit_price")
OPTIONAL_COLUMNS = ("lead_time_days",)
MAX_PRICE_DECIMALS = 2
# A header with one of these and no comma was written with the wrong delimiter.
OTHER_DELIMITERS = (";", "\t", "|")

INVENTORY_COLUMNS = {
    "partner": {"data_type": "text", "nullable": False},
    "supplier_id": {"data_type": "bigint", "nullable": False},
    "part_id": {"data_type": "bigint", "nullable": False},
    "qty_available": {"data_type": "bigint", "nullable": False},
    "unit_price": {"data_type": "decimal", "precision": 15, "scale": 2, "nullable": False},
    "lead_time_days": {"data_type": "bigint", "nullable": True},
    "feed_date": {"data_type": "date", "nullable": False},
    "source_file": {"data_type": "text", "nullable": False},
    "source_line": {"data_type": "bigint", "nullable": False},
    "file_sha256": {"data_type": "text", "nullable": False},
}
FILE_COLUMNS = {
    "source_file": {"data_type": "text", "nullable": False},
    "partner": {"data_type": "text", "nullable": False},
    "feed_date": {"data_type": "date", "nullable": True},
    "file_sha256": {"data_type": "text", "nullable": False},
    "size_bytes": {"data_type": "bigint", "nullable": False},
    "modified_at": {"data_type": "timestamp", "nullable": True},
    "status": {"data_type": "text", "nullable": False},
    "duplicate_of": {"data_type": "text", "nullable": True},
    "data_rows": {"data_type": "bigint", "nullable": False},
    "loaded_rows": {"data_type": "bigint", "nullable": False},
    "quarantined_rows": {"data_type": "bigint", "nullable": False},
}
REJECT_COLUMNS = {
    "partner": {"data_type": "text", "nullable": False},
    "source_file": {"data_type": "text", "nullable": False},
    "source_line": {"data_type": "bigint", "nullable": True},
    "reason": {"data_type": "text", "nullable": False},
    "raw_line": {"data_type": "text", "nullable": True},
    "file_sha256": {"data_type": "text", "nullable": False},
    "feed_date": {"data_type": "date", "nullable": True},
}
FROZEN = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}
