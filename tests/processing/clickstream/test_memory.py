"""The clickstream job under bounded memory (issue 11): the settings reach every DuckDB
connection, the chunked job writes exactly what one pass over the batch writes, a run
after a crash between chunks writes each event once, and a limit DuckDB cannot work
under ends in one line naming the setting."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.settings import load_settings
from processing import clickstream
from processing.clickstream import contract, duckdb_job
from simulator import init_sources
from simulator.context import SimContext
from tests.conftest import platform_settings
from tests.processing.clickstream.conftest import event

ONE_PASS = {"chunk_bytes": 2**62}
ZONES = ("processed", "quarantine", "audit")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    """The simulator's clickstream at SF 0.01, its first month."""
    root = tmp_path_factory.mktemp("clickstream-sf001")
    settings = platform_settings(root / "data", SF="0.01")
    init_sources(settings, date(1998, 2, 1), only=("clickstream",))
    return Path(settings.lake_url) / "landing"


def _lake(root: Path, landing: Path):
    """A fresh lake holding a copy of ``landing``, and settings whose DATA_DIR is ``root``."""
    shutil.copytree(landing, root / "lake" / "landing")
    return root / "lake", platform_settings(root, LAKE_URL=str(root / "lake"))


def _zone_sql(lake: Path, zone: str) -> str:
    folder = contract.paths(str(lake))[zone]
    columns = "* exclude (processed_at)" if zone == "audit" else "*"
    return f"select {columns} from read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"


def _differences(left: Path, right: Path, zone: str) -> int:
    """Rows of ``zone`` in one lake and not the other, both ways, duplicates counted."""
    a, b = _zone_sql(left, zone), _zone_sql(right, zone)
    return duckdb.sql(f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))").fetchone()[0]


def _counts(summary: dict) -> tuple:
    return tuple(summary[k] for k in ("files", "delivered", "processed", "quarantined", "duplicates"))


@pytest.mark.parametrize("name", ["job", "simulator", "default"], ids=["job", "simulator", "default"])
def test_settings_reach_every_connection(tmp_path, name):
    settings = platform_settings(tmp_path, DUCKDB_MEMORY_LIMIT="300MB", DUCKDB_TEMP_DIRECTORY=str(tmp_path / "spill"))
    con = {
        "job": lambda: duckdb_job.connect(settings),
        "simulator": lambda: SimContext(settings).connect(),
        "default": lambda: duck.connect(settings=settings),
    }[name]()
    with duckdb.connect() as reference:
        reference.execute("set memory_limit = '300MB'")
        expected = reference.sql("select current_setting('memory_limit')").fetchone()[0]
    got = con.sql("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    con.close()
    assert got == (expected, str(tmp_path / "spill"))


@pytest.mark.parametrize("value", ["4", "lots", "4 GB;", "-1GB", "1.5XB"], ids=str)
def test_a_memory_limit_duckdb_cannot_read_is_refused_naming_the_setting(value):
    with pytest.raises(PlatformError, match=r"^DUCKDB_MEMORY_LIMIT=.* is not a memory size: .*512MB or 4GiB$"):
        load_settings({"DUCKDB_MEMORY_LIMIT": value})


def _first_files(lake: Path, sources: list[str]) -> list[str]:
    """Files holding the first copy of an event id whose next copy came in a later file."""
    first: dict[str, str] = {}
    found = []
    for source in sources:
        for line in gzip.decompress((lake / "landing" / "clickstream" / source).read_bytes()).splitlines():
            try:
                event_id = json.loads(line)["event_id"]
            except (ValueError, KeyError, TypeError):
                continue
            if first.setdefault(event_id, source) != source:
                found.append(first[event_id])
    return sorted(found)


def test_chunks_write_exactly_what_one_pass_writes(tmp_path, landing):
    single_lake, single_settings = _lake(tmp_path / "single", landing)
    chunked_lake, chunked_settings = _lake(tmp_path / "chunked", landing)
    sizes = duckdb_job.list_landing(str(chunked_lake))
    sources = sorted(sizes)
    # End the first chunk on a file whose event is delivered again in a later file: that
    # re-delivery is read in another chunk and must still count as a duplicate.
    spanning = _first_files(chunked_lake, sources)
    assert spanning, "the simulator delivered no event twice in two files"
    boundary = spanning[len(spanning) // 8]
    chunk_bytes = sum(sizes[s] for s in sources[: sources.index(boundary) + 1])

    one = duckdb_job.run(str(single_lake), settings=single_settings, **ONE_PASS)
    many = duckdb_job.run(str(chunked_lake), settings=chunked_settings, chunk_bytes=chunk_bytes)
    assert one["chunks"] == 1
    assert many["chunks"] >= 4
    assert duckdb_job._chunks(sources, sizes, chunk_bytes)[0][-1] == boundary
    assert _counts(many) == _counts(one)
    assert many["duplicates"] > 0
    assert many["delivered"] == many["processed"] + many["quarantined"] + many["duplicates"]
    assert many["partitions_rewritten"] == one["partitions_rewritten"]
    for zone in ZONES:
        assert _differences(single_lake, chunked_lake, zone) == 0, zone


def test_a_duplicate_in_the_next_chunk_is_counted_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    lake = tmp_path / "lake"
    root = lake / "landing" / "clickstream"
    lines = {"1998/03/01/23/a.json.gz": ["x", "y"], "1998/03/02/00/b.json.gz": ["z", "x"]}
    for relative, ids in lines.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        body = "".join(event(i, "1998-03-01T23:10:00.000Z") + "\n" for i in ids)
        (root / relative).write_bytes(gzip.compress(body.encode()))
    summary = duckdb_job.run(str(lake), chunk_bytes=1)
    assert (summary["chunks"], summary["processed"], summary["duplicates"]) == (2, 3, 1)
    kept = duckdb.sql(f"select event_id, source_file, line_number from ({_zone_sql(lake, 'processed')})").fetchall()
    assert sorted(kept) == [("x", "1998/03/01/23/a.json.gz", 1), ("y", "1998/03/01/23/a.json.gz", 2),
                            ("z", "1998/03/02/00/b.json.gz", 1)]  # fmt: skip


def test_a_run_after_a_crash_writes_each_event_once(tmp_path, landing, monkeypatch):
    """A run stopped after two chunks moved their part files into place (no audit yet), and
    a staging folder a killed COPY left: the next run counts the stored events of those
    chunks as processed, not duplicates, writes only the rest, and removes the staging."""
    clean_lake, clean_settings = _lake(tmp_path / "clean", landing)
    lake, settings = _lake(tmp_path / "crashed", landing)
    chunk_bytes = sum(duckdb_job.list_landing(str(lake)).values()) // 4 + 1
    check_and_write = duckdb_job._check_and_write
    chunks_begun = []

    def killed_at_the_third_chunk(*args):
        chunks_begun.append(args[3])
        if len(chunks_begun) == 3:
            raise RuntimeError("killed")
        return check_and_write(*args)

    monkeypatch.setattr(duckdb_job, "_check_and_write", killed_at_the_third_chunk)
    with pytest.raises(RuntimeError, match="killed"):
        duckdb_job.run(str(lake), settings=settings, chunk_bytes=chunk_bytes)
    monkeypatch.setattr(duckdb_job, "_check_and_write", check_and_write)
    processed = Path(contract.paths(str(lake))["processed"])
    crashed = {p: p.stat().st_mtime_ns for p in processed.glob("event_date=*/*.parquet")}
    assert crashed and not Path(contract.paths(str(lake))["audit"]).exists()
    leftover = processed / ".staging-killed" / next(iter(crashed)).parent.name
    leftover.mkdir(parents=True)
    shutil.copy(next(iter(crashed)), leftover / "part-0.parquet")

    again = duckdb_job.run(str(lake), settings=settings, chunk_bytes=chunk_bytes)
    clean = duckdb_job.run(str(clean_lake), settings=clean_settings, chunk_bytes=chunk_bytes)
    assert again["chunks"] == clean["chunks"] >= 4
    assert _counts(again) == _counts(clean)
    assert not list(processed.glob(".staging*"))
    # The crashed run's files stay as they were; the rerun's new events went beside them.
    assert {p: p.stat().st_mtime_ns for p in crashed} == crashed
    for zone in ZONES:
        assert _differences(clean_lake, lake, zone) == 0, zone


def test_an_impossible_memory_limit_ends_in_one_line_naming_the_setting(tmp_path, landing):
    lake, _ = _lake(tmp_path, landing)
    settings = platform_settings(tmp_path, LAKE_URL=str(lake), DUCKDB_MEMORY_LIMIT="1MB")
    with pytest.raises(PlatformError) as raised:
        clickstream.run(settings, "duckdb")
    message = str(raised.value)
    assert message.startswith("DuckDB ran out of memory at DUCKDB_MEMORY_LIMIT=1MB (Out of Memory Error")
    assert "raise DUCKDB_MEMORY_LIMIT" in message and "\n" not in message
    # Nothing half-written: no audit, so the next run (with memory) takes the whole batch.
    assert not (lake / "processed" / "clickstream_audit").exists()
    assert clickstream.run(platform_settings(tmp_path, LAKE_URL=str(lake)), "duckdb")["files"] == len(
        duckdb_job.list_landing(str(lake))
    )


def test_auto_leaves_duckdb_only_for_a_batch_the_local_disk_cannot_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    lake = tmp_path / "lake"
    source = lake / "landing" / "clickstream" / "1998/03/01/10/a.json.gz"
    source.parent.mkdir(parents=True)
    source.write_bytes(gzip.compress((event("a", "1998-03-01T09:00:00.000Z") + "\n").encode()))
    settings = platform_settings(tmp_path, LAKE_URL=str(lake))
    assert clickstream.choose_engine(settings) == "duckdb"
    # A batch that would need more than the disk under DUCKDB_TEMP_DIRECTORY has.
    free = clickstream.free_disk(settings.duckdb_temp_directory)
    monkeypatch.setattr(clickstream, "DISK_PER_GZIP_BYTE", 2 * free // source.stat().st_size)  # others write too
    assert clickstream.choose_engine(settings) == "spark"
    assert clickstream.choose_engine(settings, "duckdb") == "duckdb"
