"""Run ``spark_job`` in Spark local mode: the laptop stand-in for a Glue job run."""

from __future__ import annotations

from pyspark.sql import SparkSession

from ingestion.settings import Settings
from processing.clickstream import spark_job


def session(cores: str = "2", shuffle_partitions: int = 4, driver_memory: str = "2g") -> SparkSession:
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("clickstream-local")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )


def run(settings: Settings) -> dict:
    spark = session(shuffle_partitions=settings.spark_shuffle_partitions, driver_memory=settings.spark_driver_memory)
    return spark_job.run(spark, settings.lake_url)
