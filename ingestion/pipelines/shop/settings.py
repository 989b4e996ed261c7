"""Constants of the shop pipeline."""

PIPELINE_NAME = "shop"
DATASET_NAME = "shop"
TABLES = ("region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem")
CURSOR_COLUMN = "updated_at"
# Rows per Arrow batch streamed from connectorx: bounds memory at any scale factor.
CHUNK_SIZE = 1_000_000
