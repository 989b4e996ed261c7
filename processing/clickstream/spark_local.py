"""Run ``spark_job`` in Spark local mode: the laptop stand-in for a Glue job run."""

from __future__ import annotations

import os

from pyspark.sql import SparkSession

from processing.clickstream import spark_job


def session(cores: str = "2") -> SparkSession:
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("clickstream-local")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )


def run(lake_url: str) -> dict:
    return spark_job.run(session(), lake_url)
