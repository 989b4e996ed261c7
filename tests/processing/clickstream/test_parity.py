"""Spark and DuckDB write the same rows, and each picks up where the other left off."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from processing.clickstream import duckdb_job, spark_job
from simulator import clickstream, shop
from simulator.context import SimContext
from tests.conftest import platform_settings
from tests.processing.clickstream.conftest import event

CUTOFF = date(1998, 1, 5)
BAD_LINES = [
    '{"event_id": "t1", "event_type": "page_',
    "[1, 2]",
    "",
    event("t2", "1998-01-05T10:00:00.000Z", event_type="page_scroll"),
    event("", "1998-01-05T10:00:00.000Z"),
    event("t3", "1998-01-05T10:00:00.000Z", event_type="order_placed"),
    event("t4", "1998-02-30T10:00:00.000Z"),
    event("t5", "1998-01-05 10:00:00"),
    event("t6", "1998-01-09T10:00:00.000Z"),
    event("t7", "1998-01-05T10:00:00.000Z", event_type="product_view", part_id="abc"),
    event("t8", "1998-01-05T10:00:00.000Z", event_type="product_view", part_id=12),
]


def _table(lake: Path, folder: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    files = sorted(str(p) for p in (lake / folder).rglob("*.parquet"))
    rel = duckdb.sql(f"select * from read_parquet({files}, hive_partitioning = true)")
    keep = [c for c in rel.columns if c not in exclude]
    return sorted(duckdb.sql(f"select {', '.join(keep)} from rel").fetchall(), key=repr)


def _outputs(lake: Path) -> dict[str, list[tuple]]:
    return {
        "events": _table(lake, "processed/clickstream"),
        "quarantine": _table(lake, "quarantine/clickstream"),
        "audit": _table(lake, "processed/clickstream_audit", exclude=("engine", "processed_at")),
    }


@pytest.fixture(scope="module")
def spark():
    from processing.clickstream import spark_local

    session = spark_local.session()
    yield session
    session.stop()


@pytest.mark.spark
def test_engines_write_identical_rows_and_can_take_turns(spark, tmp_path):
    ctx = SimContext(platform_settings(tmp_path / "sim"))
    shop.init(ctx, CUTOFF)
    clickstream.init(ctx)
    source = Path(ctx.settings.lake_url) / "landing"

    def on_spark(url: str) -> dict:
        return spark_job.run(spark, url)

    engines = {
        "duckdb": (duckdb_job.run, duckdb_job.run),
        "spark": (on_spark, on_spark),
        "duckdb_then_spark": (duckdb_job.run, on_spark),
        "spark_then_duckdb": (on_spark, duckdb_job.run),
    }
    lakes = {name: tmp_path / name for name in engines}
    for lake in lakes.values():
        shutil.copytree(source, lake / "landing")
    summaries = {name: [engines[name][0](str(lake))] for name, lake in lakes.items()}

    # The second batch: two more days (late events and redeliveries) and every broken line.
    shop.advance(ctx, 2)
    for offset in (1, 2):
        clickstream.produce_day(ctx, CUTOFF + timedelta(days=offset))
    bad = source / "clickstream/1998/01/05/10/clickstream-bad-1998-01-05-10.json.gz"
    bad.write_bytes(gzip.compress("".join(line + "\n" for line in BAD_LINES).encode()))
    for name, lake in lakes.items():
        shutil.copytree(source, lake / "landing", dirs_exist_ok=True)
        summaries[name].append(engines[name][1](str(lake)))

    counts = ("files", "delivered", "processed", "quarantined", "duplicates", "partitions_rewritten")
    plain = {name: [{k: s[k] for k in counts} for s in runs] for name, runs in summaries.items()}
    assert all(runs == plain["duckdb"] for runs in plain.values()), plain
    assert plain["duckdb"][1]["quarantined"] >= len(BAD_LINES) - 1
    assert plain["duckdb"][1]["duplicates"] > 0

    expected = _outputs(lakes["duckdb"])
    assert len(expected["events"]) == sum(s["processed"] for s in summaries["duckdb"])
    for name in ("spark", "duckdb_then_spark", "spark_then_duckdb"):
        assert _outputs(lakes[name]) == expected, name


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["job.py", "--LAKE_URL", "s3://bucket/lake"], "s3://bucket/lake"),
        (["job.py", "--lake-url", "/tmp/lake", "--extra", "x"], "/tmp/lake"),
    ],
    ids=["glue-style", "local-flag"],
)
def test_job_arguments(argv, expected):
    assert spark_job.job_arguments(argv) == expected


def test_job_arguments_without_a_lake_fail_clearly(monkeypatch, capsys):
    monkeypatch.setenv("LAKE_URL", "s3://the-job-reads-no-environment/lake")
    with pytest.raises(SystemExit):
        spark_job.job_arguments(["job.py"])
    assert "--LAKE_URL is required" in capsys.readouterr().err
