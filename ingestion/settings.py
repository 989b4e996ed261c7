"""Every setting of the platform, read in one place: environment variables with local defaults.

``VARIABLES`` is the list of record: each variable's name, default, meaning, accepted
values and who reads it. ``load_settings`` reads the platform's own variables (typed and
validated: a bad value names the variable and what it accepts); the others are read by
the tool named in ``read_by`` (dlt's configuration for a pipeline's own settings, dbt's
``env_var()`` in ``profiles/profiles.yml``, the AWS SDK's credential chain), and are
listed here so that ``.env.example`` and ``docs/settings.md``, both generated from this
list (``marketplace settings``), name every variable a deployment can set. A test checks
that no other module reads the environment and that both files are up to date.

The same code points at a local folder and DuckDB on a laptop and at S3, Redshift or
Athena in production; production is never the default.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.errors import PlatformError

SF_MIN = 0.01
SF_MAX = 100.0
DBT_TARGETS = ("dev", "ci", "pg", "spark", "redshift", "athena")
LAKE_ZONES = ("landing", "raw", "processed", "quarantine")
INGEST_DESTINATIONS = ("auto", "lake", "warehouse")
SHOP_EXTRACT_ENGINES = ("duckdb", "connectorx")
CLICKSTREAM_DELIVERIES = ("firehose", "kinesis")
# Who reads a variable: this module, dlt's config providers, dbt (env_var in profiles.yml), the AWS SDK.
READERS = ("settings", "dlt", "dbt", "aws")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as written in .env.example; "" means unset
    meaning: str
    group: str
    choices: tuple[str, ...] = ()
    secret: bool = False
    read_by: str = "settings"


_PLATFORM = "Platform"
_SIM = "Simulated sources (demo and tests only)"
_PAYMENTS = "Payments pipeline (dlt configuration)"
_CLICK = "Clickstream"
_WAREHOUSE = "Warehouse-first loading and dbt targets"
_PG = "Target pg (local PostgreSQL, the Redshift rehearsal)"
_REDSHIFT = "Target redshift"
_ATHENA = "Target athena"
_SPARK = "Target spark and the Spark job"
_AWS = "AWS (S3 lake, Kinesis, Glue; the SDK's usual chain)"
_CONSUMER = "Consumer end: docs site, dashboard, the analyst's change loop"
_DEV = "Developer tools"
_DUCKDB = "DuckDB resources (the jobs, the simulator and dbt's DuckDB targets)"
_DAG = "Orchestration: the Airflow DAG of the daily cycle (orchestration/)"

VARIABLES: tuple[Variable, ...] = (
    # -- the platform -------------------------------------------------------------------
    Variable("DATA_DIR", "./data", "Everything generated locally: sources, lake, warehouse, dlt state.", _PLATFORM),
    Variable("LAKE_URL", "$DATA_DIR/lake", "The lake root: a folder, or s3://bucket/prefix.", _PLATFORM),
    Variable("DBT_TARGET", "dev", "dbt target; also decides where the pipelines load.", _PLATFORM, DBT_TARGETS),
    Variable(
        "DBT_TARGET_PATH",
        "target",
        "Where dbt writes its artifacts (manifest, run results, the docs site); relative to the dbt project. "
        "dbt reads it too.",
        _PLATFORM,
    ),
    Variable(
        "SHOP_DB_URL",
        "sqlite:///$DATA_DIR/sources/shop.db",
        "The shop database the shop pipeline reads (and the simulator writes): sqlite:///PATH or "
        "postgresql://USER:PASSWORD@HOST:PORT/DB (e.g. RDS).",
        _PLATFORM,
        secret=True,
    ),
    Variable(
        "INGEST_DESTINATION",
        "auto",
        "Where pipelines load: auto (what DBT_TARGET implies), lake, or warehouse (raw_* schemas).",
        _PLATFORM,
        INGEST_DESTINATIONS,
    ),
    Variable(
        "LOCK_WAIT_SECONDS",
        "0",
        "How long a command that writes to DATA_DIR waits for another one holding its lock "
        "($DATA_DIR/.marketplace.lock) before failing; 0 fails at once.",
        _PLATFORM,
    ),
    # -- duckdb -------------------------------------------------------------------------
    Variable(
        "DUCKDB_MEMORY_LIMIT",
        "4GB",
        "memory_limit of every DuckDB connection the platform opens for writing (jobs, simulator, dbt's "
        "dev/ci/sandbox targets): beyond it DuckDB spills to DUCKDB_TEMP_DIRECTORY. A size such as 512MB or "
        "4GiB; 4GB suits a 2-core laptop with 8 to 24 GiB. dbt reads it too.",
        _DUCKDB,
    ),
    Variable(
        "DUCKDB_TEMP_DIRECTORY",
        "$DATA_DIR/tmp/duckdb",
        "Where DuckDB spills what exceeds DUCKDB_MEMORY_LIMIT, and the clickstream job's scratch files; "
        "local disk. dbt reads it too.",
        _DUCKDB,
    ),
    Variable(
        "SHOP_EXTRACT_ENGINE",
        "duckdb",
        "What reads the shop database for dlt: duckdb (its sqlite/postgres scanner, the fast path) or connectorx.",
        _PLATFORM,
        SHOP_EXTRACT_ENGINES,
    ),
    # -- the simulator ------------------------------------------------------------------
    Variable("SF", "0.01", f"TPC-H scale factor of the simulated sources, {SF_MIN:g} to {SF_MAX:g}.", _SIM),
    Variable("SEED", "42", "Seed of everything the simulator randomises.", _SIM),
    Variable("TPCH_CACHE_DIR", "$DATA_DIR/sources", "Where generated TPC-H datasets are cached.", _SIM),
    Variable(
        "PAYMENTS_API_RATE_LIMIT",
        "0",
        "Share of requests (0 to 1) the local payments API answers 429 with Retry-After.",
        _SIM,
    ),
    # -- payments -----------------------------------------------------------------------
    Variable(
        "SOURCES__PAYMENTS__BASE_URL",
        "",
        "Base URL of the payments API. Unset: the CLI serves the simulated API on a free port for the run.",
        _PAYMENTS,
        read_by="dlt",
    ),
    Variable(
        "SOURCES__PAYMENTS__TOKEN",
        "",
        "Bearer token of the payments API (required with SOURCES__PAYMENTS__BASE_URL).",
        _PAYMENTS,
        secret=True,
        read_by="dlt",
    ),
    # -- clickstream --------------------------------------------------------------------
    Variable(
        "CLICKSTREAM_DELIVERY",
        "firehose",
        "firehose: events arrive as gzip files in landing/clickstream/; kinesis: the clickstream "
        "pipeline consumes CLICKSTREAM_STREAM into that layout.",
        _CLICK,
        CLICKSTREAM_DELIVERIES,
    ),
    Variable("CLICKSTREAM_STREAM", "clickstream", "Name of the Kinesis stream of web events.", _CLICK),
    # -- warehouse loading and dbt sources ------------------------------------------------
    Variable(
        "SHOP_RAW_SCHEMA", "raw_shop", "Schema of the shop's raw tables (warehouse-first).", _WAREHOUSE, read_by="dbt"
    ),
    Variable("PAYMENTS_RAW_SCHEMA", "raw_payments", "Schema of the raw payments.", _WAREHOUSE, read_by="dbt"),
    Variable("PARTNERS_RAW_SCHEMA", "raw_partners", "Schema of the raw partner rows.", _WAREHOUSE, read_by="dbt"),
    Variable(
        "PARTNERS_QUARANTINE_SCHEMA",
        "quarantine_partners",
        "Schema of rejected partner rows.",
        _WAREHOUSE,
        read_by="dbt",
    ),
    Variable(
        "CLICKSTREAM_SCHEMA",
        "processed_clickstream",
        "Schema of the processed clickstream (or a Redshift Spectrum schema over it).",
        _WAREHOUSE,
        read_by="dbt",
    ),
    Variable(
        "PII_SALT",
        "",
        "Salt of the PII hashes in the marts (docs/security.md), read at run time and never "
        "written into SQL: dbt's DuckDB and Spark sessions read it, make hands it to PostgreSQL "
        "in PGOPTIONS; 16 characters or more, no spaces. Unset, the local targets use a public salt; redshift and "
        "athena read theirs from a table (var pii_salt_table).",
        _WAREHOUSE,
        secret=True,
        read_by="dbt",
    ),
    # -- pg -----------------------------------------------------------------------------
    Variable("PG_HOST", "127.0.0.1", "PostgreSQL host.", _PG),
    Variable("PG_PORT", "5432", "PostgreSQL port (make pg-up picks one and passes it on).", _PG),
    Variable("PG_USER", "postgres", "PostgreSQL user (dbt and the loader).", _PG),
    Variable("PG_PASSWORD", "", "PostgreSQL password (empty for the local cluster's trust login).", _PG, secret=True),
    Variable("PG_DBNAME", "postgres", "PostgreSQL database.", _PG),
    Variable("PG_SCHEMA", "analytics", "Schema dbt builds into.", _PG, read_by="dbt"),
    Variable("PG_DIR", "/tmp/marketplace-pg", "Folder of the throwaway cluster of `marketplace pg up`.", _PG),
    # -- redshift -----------------------------------------------------------------------
    Variable("REDSHIFT_HOST", "", "Redshift endpoint host.", _REDSHIFT),
    Variable("REDSHIFT_PORT", "5439", "Redshift port.", _REDSHIFT),
    Variable("REDSHIFT_DBNAME", "", "Redshift database.", _REDSHIFT),
    Variable("REDSHIFT_SCHEMA", "", "Schema dbt builds into.", _REDSHIFT, read_by="dbt"),
    Variable("REDSHIFT_METHOD", "database", "dbt's login method.", _REDSHIFT, ("database", "iam"), read_by="dbt"),
    Variable("REDSHIFT_USER", "", "dbt's Redshift user.", _REDSHIFT, read_by="dbt"),
    Variable(
        "REDSHIFT_PASSWORD", "", "dbt's Redshift password (method database).", _REDSHIFT, secret=True, read_by="dbt"
    ),
    Variable("REDSHIFT_IAM_PROFILE", "", "AWS profile for method iam.", _REDSHIFT, read_by="dbt"),
    Variable("REDSHIFT_CLUSTER_ID", "", "Cluster identifier for method iam.", _REDSHIFT, read_by="dbt"),
    Variable("REDSHIFT_REGION", "", "Region of the cluster (default: AWS_REGION).", _REDSHIFT, read_by="dbt"),
    Variable("REDSHIFT_SSLMODE", "verify-full", "TLS mode of dbt's connection.", _REDSHIFT, read_by="dbt"),
    Variable("REDSHIFT_THREADS", "4", "dbt threads on Redshift.", _REDSHIFT, read_by="dbt"),
    Variable("REDSHIFT_LOADER_USER", "", "The dlt loader's Redshift user.", _REDSHIFT),
    Variable("REDSHIFT_LOADER_PASSWORD", "", "The dlt loader's Redshift password.", _REDSHIFT, secret=True),
    Variable("REDSHIFT_COPY_ROLE_ARN", "", "IAM role Redshift assumes to COPY staged files (else keys).", _REDSHIFT),
    # -- athena -------------------------------------------------------------------------
    Variable("ATHENA_S3_STAGING_DIR", "", "s3:// folder for Athena query results.", _ATHENA),
    Variable("ATHENA_S3_DATA_DIR", "", "s3:// folder where dbt writes Athena tables.", _ATHENA, read_by="dbt"),
    Variable("ATHENA_SCHEMA", "", "Glue database dbt builds into.", _ATHENA, read_by="dbt"),
    Variable("ATHENA_WORK_GROUP", "primary", "Athena workgroup.", _ATHENA),
    Variable("ATHENA_REGION", "", "Region of Athena and Glue (default: AWS_REGION).", _ATHENA),
    Variable("ATHENA_CATALOG", "awsdatacatalog", "Data catalog dbt uses.", _ATHENA, read_by="dbt"),
    Variable("ATHENA_ENDPOINT_URL", "", "Another Athena endpoint (tests: moto's server).", _ATHENA, read_by="dbt"),
    Variable("ATHENA_THREADS", "4", "dbt threads on Athena.", _ATHENA, read_by="dbt"),
    # -- spark --------------------------------------------------------------------------
    Variable("SPARK_MASTER", "local[2]", "Spark master of the dbt-spark session.", _SPARK, read_by="dbt"),
    Variable("SPARK_SCHEMA", "analytics", "Schema dbt builds into on Spark.", _SPARK, read_by="dbt"),
    Variable(
        "SPARK_FILE_FORMAT",
        "parquet",
        "Table format on Spark: delta, iceberg or hudi enable snapshots (Glue 5 has Iceberg).",
        _SPARK,
        read_by="dbt",
    ),
    Variable("SPARK_SHUFFLE_PARTITIONS", "4", "spark.sql.shuffle.partitions of local Spark.", _SPARK),
    Variable("SPARK_DRIVER_MEMORY", "2g", "Driver memory of the local Spark job.", _SPARK),
    # -- aws ----------------------------------------------------------------------------
    Variable("AWS_ENDPOINT_URL", "", "An S3/Kinesis/Glue-compatible endpoint (the tests use moto's server).", _AWS),
    Variable("AWS_REGION", "eu-west-1", "Region (also AWS_DEFAULT_REGION, which the SDK reads).", _AWS),
    Variable("AWS_DEFAULT_REGION", "", "The SDK's region, when AWS_REGION is unset.", _AWS),
    Variable("AWS_ACCESS_KEY_ID", "", "Access key, when no profile or role provides one.", _AWS),
    Variable("AWS_SECRET_ACCESS_KEY", "", "Secret key, with AWS_ACCESS_KEY_ID.", _AWS, secret=True),
    Variable("AWS_PROFILE", "", "A named profile of the AWS config files.", _AWS, read_by="aws"),
    # -- the consumer end ----------------------------------------------------------------
    Variable("DOCS_PORT", "8080", "Port of the dbt docs and lineage site (`make docs`), on 127.0.0.1.", _CONSUMER),
    Variable("DASHBOARD_PORT", "8501", "Port of the local dashboard (`make dashboard`), on 127.0.0.1.", _CONSUMER),
    Variable(
        "DBT_STATE_DIR",
        "$DATA_DIR/state/prod",
        "The last production build's dbt manifest, which `make dev-build` compares with and defers to.",
        _CONSUMER,
    ),
    Variable(
        "CHROMIUM_PATH",
        "/usr/bin/chromium",
        "The Chromium the browser tests and screenshots drive (Debian's package; make setup installs it).",
        _CONSUMER,
    ),
    # -- developer tools ----------------------------------------------------------------
    Variable("BENCH_SF", "0.01 0.1 1", "Scale factors `make bench` measures.", _DEV),
    Variable("BENCH_REPEAT", "", "Runs per figure (default 3 below SF 1, else 1).", _DEV),
    Variable(
        "BENCH_SUITES",
        "shop clickstream payments engines day",
        "The suites `make bench` runs; docs/benchmarks.md keeps the last tables of the others.",
        _DEV,
    ),
    # -- orchestration ------------------------------------------------------------------
    Variable(
        "DAG_SIMULATED_SOURCES",
        "true",
        "true: each run of marketplace_daily first releases its day in the simulated sources "
        "(`marketplace simulate advance --to DAY`); false in production, where the sources are real.",
        _DAG,
        ("true", "false"),
    ),
    Variable("DAG_RETRIES", "2", "Retries of each task of marketplace_daily before the run fails.", _DAG),
    Variable("DAG_RETRY_DELAY_SECONDS", "300", "Seconds between a failed task's tries.", _DAG),
    Variable(
        "DAG_DBT_SELECT",
        "",
        "What the DAG's dbt task group builds, in dbt's selection syntax (space-separated, e.g. "
        "`+fct_orders tag:finance`); unset: the whole project.",
        _DAG,
    ),
)

_BY_NAME = {v.name: v for v in VARIABLES}

# Values that reach SQL text. Identifiers: the schemas, databases and catalogs dbt and the
# loaders name in SQL (read by dbt, but checked here when a command starts). Literals:
# folders and URLs put between quotes in read_parquet('...'), ATTACH '...', COPY ... TO '...'.
SQL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SQL_IDENTIFIER_VARIABLES = (
    "SHOP_RAW_SCHEMA", "PAYMENTS_RAW_SCHEMA", "PARTNERS_RAW_SCHEMA", "PARTNERS_QUARANTINE_SCHEMA",
    "CLICKSTREAM_SCHEMA", "PG_DBNAME", "PG_SCHEMA", "REDSHIFT_DBNAME", "REDSHIFT_SCHEMA",
    "ATHENA_SCHEMA", "ATHENA_CATALOG", "SPARK_SCHEMA",
)  # fmt: skip
SQL_LITERAL_VARIABLES = ("DATA_DIR", "LAKE_URL", "SHOP_DB_URL", "TPCH_CACHE_DIR", "DUCKDB_TEMP_DIRECTORY")
_UNSAFE_IN_LITERAL = re.compile(r"['\"\\;\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Settings:
    """The platform's settings, as ``load_settings`` read them (defaults live in ``VARIABLES``)."""

    data_dir: Path
    lake_url: str
    sf: float
    seed: int
    dbt_target: str
    dbt_target_path: Path  # relative to the dbt project unless absolute
    shop_db_url: str = field(repr=False)
    ingest_destination: str
    lock_wait_seconds: float
    tpch_cache_dir: Path | None
    payments_api_rate_limit: float
    clickstream_delivery: str
    clickstream_stream: str
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str = field(repr=False)
    pii_salt: str = field(repr=False)
    pg_dbname: str
    pg_dir: Path
    redshift_host: str
    redshift_port: int
    redshift_dbname: str
    redshift_loader_user: str
    redshift_loader_password: str = field(repr=False)
    redshift_copy_role_arn: str
    athena_s3_staging_dir: str
    athena_work_group: str
    athena_region: str
    spark_shuffle_partitions: int
    spark_driver_memory: str
    aws_endpoint_url: str
    aws_region: str
    aws_access_key_id: str = field(repr=False)
    aws_secret_access_key: str = field(repr=False)
    docs_port: int
    dashboard_port: int
    dbt_state_dir: Path
    chromium_path: Path
    bench_sf: tuple[float, ...]
    bench_repeat: int | None
    bench_suites: tuple[str, ...]
    duckdb_memory_limit: str
    duckdb_temp_directory: Path
    dag_simulated_sources: bool
    dag_retries: int
    dag_retry_delay_seconds: int
    dag_dbt_select: tuple[str, ...]
    shop_extract_engine: str = "duckdb"

    @property
    def sources_dir(self) -> Path:
        """Where the simulated source systems keep their local state."""
        return self.data_dir / "sources"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def pipelines_dir(self) -> Path:
        """dlt's working folder (load packages, local state), kept out of the user's home."""
        return self.data_dir / "dlt"

    @property
    def lake_is_local(self) -> bool:
        return "://" not in self.lake_url or self.lake_url.startswith("file://")

    def zone_url(self, zone: str, *parts: str) -> str:
        """URL (or local path) of a lake zone, e.g. ``zone_url("raw", "shop")``."""
        if zone not in LAKE_ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {LAKE_ZONES}")
        return "/".join([self.lake_url.rstrip("/"), zone, *parts])


def validate_sf(sf: float) -> float:
    if not SF_MIN <= sf <= SF_MAX:
        raise PlatformError(f"SF={sf:g} is out of range: choose a scale factor from {SF_MIN:g} to {SF_MAX:g}")
    return sf


def validate_target(target: str) -> str:
    if target not in DBT_TARGETS:
        raise PlatformError(f"unknown dbt target {target!r}: choose one of {', '.join(DBT_TARGETS)}")
    return target


# DuckDB's own size syntax: a number and a unit (KB, MB, GB, TB in 1000s, KiB ... TiB in 1024s).
MEMORY_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*([KMGT]i?B)", re.IGNORECASE)


def memory_size(name: str, value: str) -> str:
    """``value`` if DuckDB reads it as a size (``512MB``, ``4GiB``), else a PlatformError naming ``name``."""
    if not MEMORY_SIZE.fullmatch(value):
        raise PlatformError(f"{name}={value!r} is not a memory size: write a number and a unit, e.g. 512MB or 4GiB")
    return value


def sql_identifier(name: str, value: str) -> str:
    """``value`` if it can be named in SQL as it is, else a PlatformError naming ``name``."""
    if not SQL_IDENTIFIER.fullmatch(value):
        raise PlatformError(
            f"{name}={value!r} is not accepted: a name that reaches SQL must match "
            f"^{SQL_IDENTIFIER.pattern}$ (letters, digits, underscores; not a digit first)"
        )
    return value


def sql_literal(name: str, value: str, shown: str | None = None) -> str:
    """``value`` if it can stand between quotes in SQL, else a PlatformError naming ``name``.

    ``shown`` replaces the value in the message (a URL with its password redacted).
    """
    if _UNSAFE_IN_LITERAL.search(value):
        shown = repr(value) if shown is None else shown
        raise PlatformError(
            f"{name}={shown} is not accepted: a path or URL that reaches SQL "
            "must not hold a quote, backslash, semicolon or control character (percent-encode them in a URL)"
        )
    return value


class _Reader:
    """Typed reads of one environment, each failure naming the variable and what it accepts.

    An unset or empty variable takes the default declared in ``VARIABLES``, unless that
    default refers to another variable (``$DATA_DIR/...``): then the caller computes it.
    """

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def text(self, name: str, default: str | None = None) -> str:
        value = (self.env.get(name) or "").strip()
        if value:
            return value
        if default is not None:
            return default
        declared = _BY_NAME[name].default
        return "" if "$" in declared else declared

    def choice(self, name: str) -> str:
        value = self.text(name).lower()
        choices = _BY_NAME[name].choices
        if value not in choices:
            raise PlatformError(f"{name}={value!r} is not accepted: choose one of {', '.join(choices)}")
        return value

    def number(self, name: str, low: float, high: float) -> float:
        raw = self.text(name)
        try:
            value = float(raw)
        except ValueError:
            raise PlatformError(f"{name}={raw!r} is not a number: choose one from {low:g} to {high:g}") from None
        if not low <= value <= high:
            raise PlatformError(f"{name}={value:g} is out of range: choose one from {low:g} to {high:g}")
        return value

    def integer(self, name: str, low: int = 0, high: int = 2**31) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise PlatformError(f"{name}={raw!r} is not an integer: choose one from {low} to {high}") from None
        if not low <= value <= high:
            raise PlatformError(f"{name}={value} is out of range: choose one from {low} to {high}")
        return value


def _check_sql_inputs(read: _Reader) -> None:
    """Refuse, before any SQL runs, a setting that would change the SQL it is put into."""
    for name in SQL_IDENTIFIER_VARIABLES:
        value = read.text(name)
        if value:  # unset: the target that needs it says so
            sql_identifier(name, value)
    for name in SQL_LITERAL_VARIABLES:
        value = read.text(name)
        shown = repr(_redacted(value)) if name == "SHOP_DB_URL" else None
        sql_literal(name, value, shown)


def pii_salt(value: str) -> str:
    """``value`` if it can travel in PGOPTIONS as it is (docs/security.md), else a PlatformError.

    The message never shows the value: it is a secret.
    """
    if value and (len(value) < 16 or re.search(r"[\s\\]", value)):
        raise PlatformError(
            "PII_SALT is not accepted: use 16 characters or more, no spaces or backslashes (it "
            "travels in PGOPTIONS on pg); generate one with `openssl rand -hex 32`"
        )
    return value


def _redacted(url: str) -> str:
    """The URL with anything between ``://`` and ``@`` hidden (it may hold a password)."""
    return re.sub(r"(://)[^/@]*@", r"\1***@", url)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    read = _Reader(os.environ if env is None else env)
    _check_sql_inputs(read)
    data_dir = Path(read.text("DATA_DIR")).absolute()
    lake_url = read.text("LAKE_URL", str(data_dir / "lake"))
    if "://" not in lake_url:
        lake_url = str(Path(lake_url).absolute())
    tpch_cache = read.text("TPCH_CACHE_DIR")
    bench_sf_raw = read.text("BENCH_SF")
    try:
        bench_sf = tuple(validate_sf(float(s)) for s in bench_sf_raw.split())
    except ValueError as exc:
        raise PlatformError(f"BENCH_SF={bench_sf_raw!r}: expected scale factors separated by spaces") from exc
    # AWS_REGION, else the SDK's AWS_DEFAULT_REGION, else AWS_REGION's declared default.
    aws_region = read.text("AWS_REGION", read.text("AWS_DEFAULT_REGION") or None)
    return Settings(
        data_dir=data_dir,
        lake_url=lake_url,
        sf=read.number("SF", SF_MIN, SF_MAX),
        seed=read.integer("SEED", 0, 2**63),
        dbt_target=validate_target(read.text("DBT_TARGET")),
        dbt_target_path=Path(read.text("DBT_TARGET_PATH")),
        shop_db_url=read.text("SHOP_DB_URL", f"sqlite:///{data_dir / 'sources' / 'shop.db'}"),
        ingest_destination=read.choice("INGEST_DESTINATION"),
        lock_wait_seconds=read.number("LOCK_WAIT_SECONDS", 0, 86400),
        tpch_cache_dir=Path(tpch_cache).absolute() if tpch_cache else None,
        payments_api_rate_limit=read.number("PAYMENTS_API_RATE_LIMIT", 0.0, 1.0),
        clickstream_delivery=read.choice("CLICKSTREAM_DELIVERY"),
        clickstream_stream=read.text("CLICKSTREAM_STREAM"),
        pg_host=read.text("PG_HOST"),
        pg_port=read.integer("PG_PORT", 1, 65535),
        pg_user=read.text("PG_USER"),
        pg_password=read.text("PG_PASSWORD"),
        pii_salt=pii_salt(read.text("PII_SALT")),
        pg_dbname=read.text("PG_DBNAME"),
        pg_dir=Path(read.text("PG_DIR")),
        redshift_host=read.text("REDSHIFT_HOST"),
        redshift_port=read.integer("REDSHIFT_PORT", 1, 65535),
        redshift_dbname=read.text("REDSHIFT_DBNAME"),
        redshift_loader_user=read.text("REDSHIFT_LOADER_USER"),
        redshift_loader_password=read.text("REDSHIFT_LOADER_PASSWORD"),
        redshift_copy_role_arn=read.text("REDSHIFT_COPY_ROLE_ARN"),
        athena_s3_staging_dir=read.text("ATHENA_S3_STAGING_DIR"),
        athena_work_group=read.text("ATHENA_WORK_GROUP"),
        athena_region=read.text("ATHENA_REGION", aws_region),
        spark_shuffle_partitions=read.integer("SPARK_SHUFFLE_PARTITIONS", 1, 100_000),
        spark_driver_memory=read.text("SPARK_DRIVER_MEMORY"),
        aws_endpoint_url=read.text("AWS_ENDPOINT_URL"),
        aws_region=aws_region,
        aws_access_key_id=read.text("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=read.text("AWS_SECRET_ACCESS_KEY"),
        docs_port=read.integer("DOCS_PORT", 1, 65535),
        dashboard_port=read.integer("DASHBOARD_PORT", 1, 65535),
        dbt_state_dir=Path(read.text("DBT_STATE_DIR", str(data_dir / "state" / "prod"))).absolute(),
        chromium_path=Path(read.text("CHROMIUM_PATH")),
        bench_sf=bench_sf,
        bench_repeat=read.integer("BENCH_REPEAT", 1, 100),
        bench_suites=tuple(read.text("BENCH_SUITES").split()),
        duckdb_memory_limit=memory_size("DUCKDB_MEMORY_LIMIT", read.text("DUCKDB_MEMORY_LIMIT")),
        duckdb_temp_directory=Path(read.text("DUCKDB_TEMP_DIRECTORY", str(data_dir / "tmp" / "duckdb"))).absolute(),
        dag_simulated_sources=read.choice("DAG_SIMULATED_SOURCES") == "true",
        dag_retries=read.integer("DAG_RETRIES", 0, 20),
        dag_retry_delay_seconds=read.integer("DAG_RETRY_DELAY_SECONDS", 0, 86_400),
        dag_dbt_select=tuple(read.text("DAG_DBT_SELECT").split()),
        shop_extract_engine=read.choice("SHOP_EXTRACT_ENGINE"),
    )


def unset_variables(names: tuple[str, ...], env: Mapping[str, str] | None = None) -> list[str]:
    """Those of ``names`` that are unset or empty (for settings other tools read: dlt, dbt)."""
    env = os.environ if env is None else env
    return [name for name in names if not (env.get(name) or "").strip()]


# Prefixes of the platform's variables: one that starts so but is not declared is a typo.
_OWN_PREFIXES = ("SHOP_", "LAKE_", "INGEST_", "DUCKDB_", "PAYMENTS_", "SOURCES__PAYMENTS__", "CLICKSTREAM_",
                 "PARTNERS_", "PG_", "REDSHIFT_", "ATHENA_", "BENCH_", "TPCH_", "DOCS_", "DASHBOARD_",
                 "DAG_")  # fmt: skip
# SPARK_ is left out: Spark sets many variables of its own in the processes it starts.


def unknown_variables(env: Mapping[str, str] | None = None) -> list[str]:
    """Variables that look like the platform's but are not settings, each with a suggestion."""
    env = os.environ if env is None else env
    found = []
    for name in sorted(env):
        if name.startswith(_OWN_PREFIXES) and name not in _BY_NAME:
            close = difflib.get_close_matches(name, _BY_NAME, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(f"{name} is not a setting of the platform{hint}; see .env.example")
    return found


# -- the generated lists --------------------------------------------------------------


def env_example() -> str:
    """The text of ``.env.example``: every variable, commented out at its default."""
    lines = [
        "# Every setting of the platform, at its local default. Generated by",
        "# `marketplace settings env-example` from ingestion/settings.py; do not edit by hand.",
        "# Copy to .env (git-ignored), uncomment what you change, and `set -a; . ./.env; set +a`.",
        "# $DATA_DIR in a default means the value of DATA_DIR.",
    ]
    group = None
    for var in VARIABLES:
        if var.group != group:
            group = var.group
            lines += ["", f"# --- {group}"]
        accepted = f" [{' | '.join(var.choices)}]" if var.choices else ""
        who = "" if var.read_by == "settings" else f" (read by {var.read_by})"
        secret = " SECRET: never commit a value." if var.secret else ""
        lines.append(f"# {var.meaning}{accepted}{who}{secret}")
        lines.append(f"# {var.name}={var.default}")
    return "\n".join(lines) + "\n"


def settings_doc() -> str:
    """The text of ``docs/settings.md``: the same list as a table per group."""
    lines = [
        "# Settings",
        "",
        "Every setting is an environment variable with a local default. This page is generated from",
        "`ingestion/settings.py` by `marketplace settings doc`; `.env.example` holds the same list.",
        "`read by` says who reads it: `settings` (the platform's settings module, validated when a",
        "command starts), `dlt` (dlt's configuration: `SOURCES__<SOURCE>__<KEY>`), `dbt`",
        "(`env_var()` in `profiles/profiles.yml` and the sources) or `aws` (the AWS SDK).",
    ]
    group = None
    for var in VARIABLES:
        if var.group != group:
            group = var.group
            lines += ["", f"## {group}", "", "| variable | default | meaning | read by |", "|---|---|---|---|"]
        default = f"`{var.default}`" if var.default else "unset"
        accepted = f" One of: {', '.join(f'`{c}`' for c in var.choices)}." if var.choices else ""
        secret = " **Secret.**" if var.secret else ""
        meaning = var.meaning.replace("|", "\\|")
        lines.append(f"| `{var.name}` | {default} | {meaning}{accepted}{secret} | {var.read_by} |")
    return "\n".join(lines) + "\n"
