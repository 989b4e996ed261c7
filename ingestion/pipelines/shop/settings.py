"""Constants of the shop pipeline, and the contract a shop database must meet."""

PIPELINE_NAME = "shop"
DATASET_NAME = "shop"
TABLES = ("region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem")
CURSOR_COLUMN = "updated_at"
# Money and quantities land as exact decimals, whatever the database stores them as
# (SQLite has no decimal type: its REAL columns are cast here, to the cent).
MONEY_TYPE = (15, 2)
MONEY_COLUMNS = frozenset({
    "p_retailprice", "s_acctbal", "ps_supplycost", "c_acctbal", "o_totalprice",
    "l_quantity", "l_extendedprice", "l_discount", "l_tax",
})  # fmt: skip
# Rows per Arrow batch from the extract engine, and so per Parquet row group: bounds memory
# at any scale factor (SF 1 peaked at about 0.55 GiB with 250k rows, 0.9 GiB with 1M; 0.72
# GiB with 250k since DuckDB reads one batch ahead of the Parquet writer, read_ahead).
CHUNK_SIZE = 250_000
# An SQLite shop file up to this size is checked page by page before an incremental run
# (SQLite's quick_check): 3-5 s at SF 1 (1.75 GB), about a third of a daily run there.
# Larger files, where the check would cost more than the run, get the header checks only,
# and so does a first load, which reads every page anyway.
PAGE_CHECK_MAX_BYTES = 2 * 1024**3

# The columns dbt's staging models read: the TPC-H columns of each table plus the change
# cursor. A database that lacks one fails before any data moves, naming table and column.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "region": ("r_regionkey", "r_name", "r_comment"),
    "nation": ("n_nationkey", "n_name", "n_regionkey", "n_comment"),
    "part": (
        "p_partkey", "p_name", "p_mfgr", "p_brand", "p_type", "p_size", "p_container", "p_retailprice", "p_comment",
    ),
    "supplier": ("s_suppkey", "s_name", "s_address", "s_nationkey", "s_phone", "s_acctbal", "s_comment"),
    "partsupp": ("ps_partkey", "ps_suppkey", "ps_availqty", "ps_supplycost", "ps_comment"),
    "customer": (
        "c_custkey", "c_name", "c_address", "c_nationkey", "c_phone", "c_acctbal", "c_mktsegment", "c_comment",
    ),
    "orders": (
        "o_orderkey", "o_custkey", "o_orderstatus", "o_totalprice", "o_orderdate", "o_orderpriority", "o_clerk",
        "o_shippriority", "o_comment",
    ),
    "lineitem": (
        "l_orderkey", "l_partkey", "l_suppkey", "l_linenumber", "l_quantity", "l_extendedprice", "l_discount",
        "l_tax", "l_returnflag", "l_linestatus", "l_shipdate", "l_commitdate", "l_receiptdate", "l_shipinstruct",
        "l_shipmode", "l_comment",
    ),
}  # fmt: skip
# Mutable attributes the sample shop keeps beyond TPC-H. A database without them still
# loads: the pipeline lands the column as nulls, and the marts show it as unknown.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("c_loyalty_tier",),
    "orders": ("o_fulfilment_status",),
}
