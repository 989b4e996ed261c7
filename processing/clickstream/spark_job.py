"""The clickstream job on Spark: runs unchanged as an AWS Glue 5 job, an EMR step or locally.

    Glue 5:   script processing/clickstream/spark_job.py, --extra-py-files processing.zip,
              job parameter --LAKE_URL s3://bucket/lake
    EMR step: spark-submit --py-files processing.zip spark_job.py --LAKE_URL s3://bucket/lake
    Local:    marketplace process clickstream --engine spark  (Spark local mode)

Same batch semantics as the DuckDB twin (``duckdb_job``), which documents them: the
audit is the bookmark, the processed zone the dedup memory, and only partitions that
receive new events are rewritten (dynamic partition overwrite). Storage goes through
Hadoop's FileSystem, so ``s3://`` on Glue/EMR and plain paths locally are the same code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from processing.clickstream import contract

ENGINE = "spark"
_JSON_SCHEMA = T.StructType(
    [T.StructField(key, T.StringType()) for key in contract.JSON_KEYS]
    + [T.StructField("_corrupt_record", T.StringType())]
)


def job_arguments(argv: list[str]) -> str:
    """LAKE_URL from Glue's resolved options, else ``--LAKE_URL`` (an explicit job argument).

    The job runs on Glue or EMR without the platform's settings module, so it reads no
    environment: the caller (Glue job parameters, the EMR step, ``spark_local``) passes it.
    """
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        parser = argparse.ArgumentParser(description="clickstream: landing → processed")
        parser.add_argument("--LAKE_URL", "--lake-url", dest="lake_url")
        args, _ = parser.parse_known_args(argv[1:])
        if not args.lake_url:
            parser.error("--LAKE_URL is required")
        return args.lake_url
    return getResolvedOptions(argv, ["LAKE_URL"])["LAKE_URL"]


def run(spark: SparkSession, lake_url: str) -> dict:
    started = time.perf_counter()
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # A batch names its files one by one; listing them as a Spark job costs a task each.
    spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", "1000000")
    paths = contract.paths(lake_url)
    landing = _list(spark, f"{paths['landing']}/{contract.LANDING_GLOB}")
    done = set()
    if _exists(spark, paths["audit"]):
        audit_files = _list(spark, f"{paths['audit']}/*/*.parquet")
        if audit_files:
            rows = spark.read.parquet(*audit_files.values()).select("source_file").collect()
            done = {row.source_file for row in rows}
    new = sorted(source for source in landing if source not in done)
    if not new:
        return _summary(None, 0, 0, (0, 0, 0, 0), started)
    batch = contract.batch_id(new)

    checked = _classify(spark.read.text([landing[source] for source in new]), batch)
    # Read and parse everything before writing anything: an unreadable file fails here.
    checked = checked.localCheckpoint(eager=True)
    candidates = _candidates(checked.where("reason is null"), batch)
    _drop_staging_left_by_killed_runs(spark, paths["processed"])
    outcome, written = _write_partitions(spark, candidates, paths["processed"])
    quarantined = checked.where("reason is not null")
    if not quarantined.isEmpty():
        (
            quarantined.select(
                "source_file", "line_number", F.to_date("landing_hour").alias("landing_date"),
                "reason", F.col("value").alias("raw_line"), F.lit(batch).alias("batch_id"),
            )
            .orderBy("source_file", "line_number")
            .coalesce(1)
            .write.mode("overwrite")
            .parquet(f"{paths['quarantine']}/{batch}")
        )  # fmt: skip
    audit = (
        checked.join(outcome, ["source_file", "line_number"], "left")
        .groupBy("source_file")
        .agg(
            F.to_date(F.min("landing_hour")).alias("landing_date"),
            F.count(F.lit(1)).alias("delivered"),
            F.count(F.when(F.col("outcome").isin("new", "reprocessed"), 1)).alias("processed"),
            F.count(F.when(F.col("reason").isNotNull(), 1)).alias("quarantined"),
            F.count(F.when(F.col("outcome") == "duplicate", 1)).alias("duplicates"),
        )
        .select(
            F.lit(batch).alias("batch_id"),
            "source_file",
            "landing_date",
            "delivered",
            "processed",
            "quarantined",
            "duplicates",
            F.lit(ENGINE).alias("engine"),
            F.localtimestamp().alias("processed_at"),
        )
        .localCheckpoint(eager=True)
    )
    audit.orderBy("source_file").coalesce(1).write.mode("overwrite").parquet(f"{paths['audit']}/{batch}")
    totals = audit.agg(*(F.sum(c) for c in ("delivered", "processed", "quarantined", "duplicates")))
    return _summary(batch, len(new), written, tuple(totals.first()), started)


def _summary(batch, files, partitions, counts, started) -> dict:
    delivered, processed, quarantined, duplicates = (int(c or 0) for c in counts)
    return {
        "engine": ENGINE,
        "batch_id": batch,
        "files": files,
        "delivered": delivered,
        "processed": processed,
        "quarantined": quarantined,
        "duplicates": duplicates,
        "partitions_rewritten": partitions,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _classify(lines: DataFrame, batch: str) -> DataFrame:
    path = F.col("_metadata.file_path")
    hour = [F.regexp_extract(path, contract.LANDING_HOUR_PATTERN, i) for i in range(1, 5)]
    # gzip files are never split and a file's lines stay in order inside its partition, so
    # the row id minus the file's first row id is the line number.
    row = F.monotonically_increasing_id()
    lines = lines.select(
        "value",
        F.regexp_extract(path, r"([0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/[^/]+)$", 1).alias("source_file"),
        F.make_timestamp_ntz(*hour, F.lit(0), F.lit(0)).alias("landing_hour"),
        row.alias("_row"),
    )
    lines = lines.withColumn(
        "line_number",
        F.col("_row") - F.min("_row").over(Window.partitionBy("source_file")) + 1,
    ).drop("_row")
    parsed = lines.withColumn(
        "j",
        F.from_json("value", _JSON_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"}),
    ).withColumn(
        "event_ts",
        F.try_to_timestamp("j.event_at", F.lit(contract.SPARK_TIMESTAMP)).cast("timestamp_ntz"),
    )
    # An event is a JSON object on its own line (from_json would take an array's first object).
    is_object = F.col("j").isNotNull() & F.col("j._corrupt_record").isNull() & F.col("value").startswith("{")
    missing = None
    for key in contract.REQUIRED_KEYS:
        term = F.coalesce(F.col(f"j.{key}"), F.lit("")) == ""
        missing = term if missing is None else missing | term
    needs = None
    for kind, key in contract.TYPE_KEYS.items():
        term = (F.col("j.event_type") == kind) & F.col(f"j.{key}").isNull()
        needs = term if needs is None else needs | term
    bad_ids = None
    for key in contract.ID_KEYS:
        term = F.col(f"j.{key}").isNotNull() & ~F.col(f"j.{key}").rlike(contract.ID_PATTERN)
        bad_ids = term if bad_ids is None else bad_ids | term
    future = F.col("landing_hour") + F.expr(f"interval {1 + contract.FUTURE_TOLERANCE_HOURS} hours")
    reason = (
        F.when(~is_object, "malformed_json")
        .when(missing, "missing_key")
        .when(~F.col("j.event_type").isin(*contract.EVENT_TYPES), "unknown_event_type")
        .when(F.col("event_ts").isNull() | (F.col("event_ts") >= future), "bad_timestamp")
        .when(needs, "missing_key")
        .when(bad_ids, "bad_value")
    )
    return parsed.withColumn("reason", reason)


def _candidates(valid: DataFrame, batch: str) -> DataFrame:
    copy = Window.partitionBy("event_id").orderBy("source_file", "line_number")
    return valid.select(
        F.col("j.event_id").alias("event_id"),
        F.col("j.event_type").alias("event_type"),
        F.col("event_ts").alias("event_at"),
        F.col("j.visitor_id").alias("visitor_id"),
        *(F.expr(f"try_cast(j.{key} as bigint)").alias(key) for key in contract.ID_KEYS),
        F.col("j.page_url").alias("page_url"),
        F.col("j.device").alias("device"),
        "source_file",
        "line_number",
        F.to_date("landing_hour").alias("landing_date"),
        F.lit(batch).alias("batch_id"),
    ).withColumn("copy", F.row_number().over(copy))


def _write_partitions(spark: SparkSession, candidates: DataFrame, processed: str):
    firsts = candidates.where("copy = 1").withColumn("event_date", F.to_date("event_at"))
    touched = [r.event_date for r in firsts.select("event_date").distinct().collect()]
    existing_paths = [
        path for day in touched for path in _list(spark, f"{processed}/event_date={day.isoformat()}/*.parquet").values()
    ]
    if existing_paths:
        existing = (
            spark.read.option("basePath", processed)
            .parquet(*existing_paths)
            .select(*contract.EVENT_COLUMNS, F.col("event_date").cast("date"))
            # distinct: a run that stopped while swapping files may have left a row twice.
            .distinct()
            .localCheckpoint(eager=True)
        )
    else:
        existing = firsts.select(*contract.EVENT_COLUMNS, "event_date").limit(0)
    stored = existing.select(
        "event_id",
        F.col("source_file").alias("stored_file"),
        F.col("line_number").alias("stored_line"),
    )
    matched = candidates.join(stored, "event_id", "left")
    outcome = matched.select(
        "source_file",
        "line_number",
        F.when(F.col("copy") > 1, "duplicate")
        .when(F.col("stored_file").isNull(), "new")
        .when(
            (F.col("stored_file") == F.col("source_file")) & (F.col("stored_line") == F.col("line_number")),
            "reprocessed",
        )
        .otherwise("duplicate")
        .alias("outcome"),
    ).localCheckpoint(eager=True)
    new_rows = firsts.join(outcome.where("outcome = 'new'"), ["source_file", "line_number"], "semi")
    dates = [r.event_date for r in new_rows.select("event_date").distinct().collect()]
    if dates:
        rows = new_rows.select(*contract.EVENT_COLUMNS, "event_date").unionByName(
            existing.where(F.col("event_date").isin(dates))
        )
        (
            rows.repartition("event_date")
            .sortWithinPartitions("event_at", "event_id")
            .write.mode("overwrite")
            .partitionBy("event_date")
            .parquet(processed)
        )
    return outcome, len(dates)


def _hadoop_path(spark: SparkSession, url: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(url)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def _drop_staging_left_by_killed_runs(spark: SparkSession, processed: str) -> None:
    """A dynamic partition overwrite stages its files in ``.spark-staging-<job id>`` under
    the output; a run killed before its commit leaves the folder, and its part files, for
    good (no later job has its id). A reader that walks the folder recursively would count
    those rows twice. One writer at a time, so any such folder is a dead run's."""
    path, fs = _hadoop_path(spark, f"{processed}/.spark-staging-*")
    for status in fs.globStatus(path) or []:
        fs.delete(status.getPath(), True)


def _exists(spark: SparkSession, url: str) -> bool:
    path, fs = _hadoop_path(spark, url)
    return fs.exists(path)


def _list(spark: SparkSession, pattern: str) -> dict[str, str]:
    """{relative source: full URL} of the files matching a glob, on any Hadoop filesystem."""
    path, fs = _hadoop_path(spark, pattern)
    statuses = fs.globStatus(path) or []
    found = {}
    for status in statuses:
        if status.isFile():
            url = status.getPath().toString()
            found[contract.relative_source(url)] = url
    return found


def main(argv: list[str] | None = None) -> None:
    lake_url = job_arguments(sys.argv if argv is None else argv)
    spark = SparkSession.builder.appName("clickstream-landing-to-processed").getOrCreate()
    print(json.dumps(run(spark, lake_url)))


if __name__ == "__main__":
    main()
