"""The clickstream job on DuckDB: the twin of ``spark_job`` for inputs that fit one machine.

One run is one batch: the landing files no audit row mentions yet (the audit under
``processed/clickstream_audit/`` is the bookmark), parsed against the event contract.
Lines that break it go to ``quarantine/clickstream/`` with a reason, source file and
line number. Valid events are deduplicated by ``event_id`` within the batch and against
the processed zone, which is the dedup memory: an event id already stored in its
``event_date`` partition is a duplicate delivery, unless it is the very same line (same
file and line number) of a batch that crashed before writing its audit. The new events
are added to their ``event_date`` partitions as new part files, each written aside and
then moved into place; a partition's older files are never rewritten. The audit, written
last, commits the batch.

Memory stays flat as history grows, and each event is written once: the batch is read in
chunks of landing files (about ``CHUNK_BYTES`` of gzip each, in file order; the next
chunk is read while DuckDB works on this one), and each chunk is parsed, checked,
deduplicated and written before the next. A re-delivery carries its event's ``event_at``,
so it meets its first copy in the same date's partition however many chunks or batches
apart they arrived; the chunks go in file order, so the first copy is the batch's first.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from isal import igzip

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.settings import Settings, load_settings
from processing.clickstream import contract

log = logging.getLogger(__name__)

ENGINE = "duckdb"
PART_FILE = "part-00000.parquet"
# Gzip bytes of landing files read and parsed at once (about 5x that as text in memory).
CHUNK_BYTES = 32 * 1024**2
_HOUR = re.compile(contract.LANDING_HOUR_PATTERN)
_JSON_STRUCT = "{" + ",".join(f'"{key}":"VARCHAR"' for key in contract.JSON_KEYS) + "}"


def list_landing(lake_url: str) -> dict[str, int]:
    """Every landing file as {relative path: size in bytes}."""
    fs, base = fsspec.core.url_to_fs(contract.paths(lake_url)["landing"])
    try:
        found = fs.glob(f"{base}/{contract.LANDING_GLOB}", detail=True)
    except OSError as exc:
        raise PlatformError(f"cannot list the clickstream landing zone {base}: {exc}") from exc
    return {contract.relative_source(path): info["size"] for path, info in found.items()}


def processed_sources(con: duckdb.DuckDBPyConnection, lake_url: str) -> set[str]:
    files = _parquet_files(contract.paths(lake_url)["audit"])
    if not files:
        return set()
    quarantine = contract.paths(lake_url)["quarantine"]

    def remedy(url: str) -> str:
        batch = url.rstrip("/").split("/")[-2]  # <audit>/<batch>/part-00000.parquet
        return (
            f"move it and the batch's rejected lines ({quarantine}/{batch}) out of the lake and run again:"
            " the landing files it recorded are processed again, once"
        )

    rows = _read_lake_parquet(con, "select source_file from read_parquet(?)", files, remedy).fetchall()
    return {row[0] for row in rows}


def pending(lake_url: str) -> dict[str, int]:
    """Landing files the next batch would read, with their sizes."""
    con = duck.connect()
    try:
        done = processed_sources(con, lake_url)
    finally:
        con.close()
    return {path: size for path, size in list_landing(lake_url).items() if path not in done}


def run(
    lake_url: str,
    threads: int = 2,
    settings: Settings | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> dict:
    started = time.perf_counter()
    settings = settings or load_settings()
    con = connect(settings, threads)
    try:
        with duck.out_of_memory(settings):
            done = processed_sources(con, lake_url)
            landing = list_landing(lake_url)
            new = sorted(path for path in landing if path not in done)
            if not new:
                return _summary(None, 0, [], 0, started)
            batch = contract.batch_id(new)
            log.info("clickstream batch %s: %d landing files", batch, len(new))
            chunks = _chunks(new, landing, chunk_bytes)
            dates = _process(con, lake_url, batch, chunks)
            _write_side_tables(con, lake_url, batch)
            counts = con.execute(
                "select sum(delivered), sum(processed), sum(quarantined), sum(duplicates) from audit"
            ).fetchone()
            summary = _summary(batch, len(new), dates, counts, started)
            summary["chunks"] = len(chunks)
            return summary
    finally:
        con.close()


def connect(settings: Settings, threads: int = 2) -> duckdb.DuckDBPyConnection:
    """The job's connection: the settings' memory limit and spill folder, ``threads`` threads."""
    return duck.connect(settings=settings, config={"threads": threads})


def _chunks(sources: list[str], sizes: dict[str, int], chunk_bytes: int) -> list[list[str]]:
    """``sources`` in order, cut into runs of about ``chunk_bytes`` (at least one file each)."""
    chunks: list[list[str]] = [[]]
    total = 0
    for source in sources:
        if chunks[-1] and total + sizes[source] > chunk_bytes:
            chunks.append([])
            total = 0
        chunks[-1].append(source)
        total += sizes[source]
    return chunks


def _process(con: duckdb.DuckDBPyConnection, lake_url: str, batch: str, chunks: list[list[str]]) -> list[str]:
    """Parse, check, deduplicate and write the batch chunk by chunk; the event dates written."""
    con.execute("""
        create or replace temp table lines (
            source_file varchar, landing_date date, delivered bigint, quarantined bigint
        )
    """)
    con.execute("""
        create or replace temp table rejected (
            source_file varchar, line_number bigint, landing_hour timestamp, reason varchar, raw_line varchar
        )
    """)
    con.execute("create or replace temp table duplicates (source_file varchar, duplicates bigint)")
    # Each run's part files have names of their own: a run after a crash never writes over
    # the files the crashed run moved into place (their rows count as reprocessed).
    attempt = f"{batch}-{uuid.uuid4().hex[:8]}"
    _remove_staging(contract.paths(lake_url)["processed"])
    written: set[str] = set()
    # The next chunk's files are read and split while DuckDB works on this one.
    with ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(_read_lines, lake_url, chunks[0])
        for number in range(len(chunks)):
            lines = upcoming.result()
            if number + 1 < len(chunks):
                upcoming = reader.submit(_read_lines, lake_url, chunks[number + 1])
            written |= _check_and_write(con, lake_url, batch, f"{attempt}-{number:05d}", lines)
    return sorted(written)


def _check_and_write(con: duckdb.DuckDBPyConnection, lake_url: str, batch: str, part: str, lines: pa.Table) -> set[str]:
    """One chunk: its counts and rejected lines into the side tables, its new events into the lake."""
    con.register("lines_arrow", lines)
    _classify(con)
    con.execute("""
        insert into lines
        select source_file, cast(any_value(landing_hour) as date), count(*), count(reason)
        from checked group by source_file
    """)
    con.execute("""
        insert into rejected
        select source_file, line_number, landing_hour, reason, raw_line from checked where reason is not null
    """)
    written = _write_chunk(con, lake_url, batch, part)
    con.execute("drop table checked")
    return written


def _summary(batch, files, dates, counts, started) -> dict:
    delivered, processed, quarantined, duplicates = counts or (0, 0, 0, 0)
    return {
        "engine": ENGINE,
        "batch_id": batch,
        "files": files,
        "delivered": int(delivered),
        "processed": int(processed),
        "quarantined": int(quarantined),
        "duplicates": int(duplicates),
        "partitions_rewritten": len(dates),
        "seconds": round(time.perf_counter() - started, 3),
    }


def _read_lines(lake_url: str, sources: list[str]) -> pa.Table:
    """(source_file, line_number, landing_hour, raw_line) of every line, in file order."""
    fs, base = fsspec.core.url_to_fs(contract.paths(lake_url)["landing"])

    def one(source: str) -> pa.Table:
        try:
            data = igzip.decompress(fs.cat_file(f"{base}/{source}"))
        except (OSError, EOFError) as exc:
            raise PlatformError(f"cannot read landing file {source}: {exc}") from exc
        lines = _split_lines(data)
        year, month, day, hour = map(int, _HOUR.search(source).groups())
        n = len(lines)
        return pa.table({
            "source_file": pa.repeat(pa.scalar(source, pa.string()), n),
            "line_number": _line_numbers(n),
            "landing_hour": pa.repeat(pa.scalar(datetime(year, month, day, hour), pa.timestamp("us")), n),
            "raw_line": lines,
        })  # fmt: skip

    # zlib and file reads release the GIL, so threads overlap the decompression.
    with ThreadPoolExecutor(max_workers=4) as pool:
        return pa.concat_tables(pool.map(one, sources))


_NUMBERS = pa.array([], pa.int64())


def _line_numbers(n: int) -> pa.Array:
    """1..n, sliced from one shared array instead of built per file."""
    global _NUMBERS
    if len(_NUMBERS) < n:
        _NUMBERS = pa.array(range(1, max(n, 2 * len(_NUMBERS)) + 1), pa.int64())
    return _NUMBERS.slice(0, n)


def _split_lines(data: bytes) -> pa.Array:
    """The lines of ``data`` as one Arrow string array, split in C++, not line by line."""
    if data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        return pa.array([], pa.large_string())
    try:
        text = pa.array([data], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:
        # Not UTF-8: replace the broken bytes, which leaves those lines malformed JSON.
        text = pa.array([data.decode("utf-8", "replace")], pa.large_string())
    return pc.split_pattern(text, "\n").flatten()


def _classify(con: duckdb.DuckDBPyConnection) -> None:
    events = ", ".join(f"'{t}'" for t in contract.EVENT_TYPES)
    missing = " or ".join(f"coalesce(j.{key}, '') = ''" for key in contract.REQUIRED_KEYS)
    needs = " or ".join(f"(j.event_type = '{kind}' and j.{key} is null)" for kind, key in contract.TYPE_KEYS.items())
    bad_ids = " or ".join(
        f"(j.{key} is not null and not regexp_full_match(j.{key}, '{contract.ID_PATTERN}'))" for key in contract.ID_KEYS
    )
    future = timedelta(hours=1 + contract.FUTURE_TOLERANCE_HOURS)
    # One pass: parse each line once, keep the raw text only where it goes to quarantine.
    con.execute(f"""
        create or replace temp table checked as
        with parsed as (
            select
                source_file, line_number, landing_hour, raw_line,
                -- An event is a JSON object on its own line; json_valid first, because
                -- json_transform fails the whole vector on one broken line.
                case when starts_with(raw_line, '{{') and json_valid(raw_line)
                    then json_transform(raw_line, '{_JSON_STRUCT}') end as j
            from lines_arrow
        ),
        timed as (
            select *, try_strptime(j.event_at, '{contract.DUCKDB_TIMESTAMP}') as event_ts from parsed
        ),
        judged as (
            select
                *,
                case
                    when j is null then 'malformed_json'
                    when {missing} then 'missing_key'
                    when j.event_type not in ({events}) then 'unknown_event_type'
                    when event_ts is null or event_ts >= landing_hour + interval '{int(future.total_seconds())} seconds'
                        then 'bad_timestamp'
                    when {needs} then 'missing_key'
                    when {bad_ids} then 'bad_value'
                end as reason
            from timed
        )
        -- try_cast: the ids passed the pattern check, but DuckDB may cast before filtering.
        select
            source_file, line_number, landing_hour, reason,
            case when reason is not null then raw_line end as raw_line,
            j.event_id as event_id,
            j.event_type as event_type,
            event_ts as event_at,
            j.visitor_id as visitor_id,
            try_cast(j.customer_id as bigint) as customer_id,
            try_cast(j.part_id as bigint) as part_id,
            try_cast(j.order_id as bigint) as order_id,
            j.page_url as page_url,
            j.device as device
        from judged
    """)
    con.unregister("lines_arrow")


def _write_chunk(con: duckdb.DuckDBPyConnection, lake_url: str, batch: str, part: str) -> set[str]:
    """Deduplicate the chunk's valid events (``checked``) within the batch and against the
    processed zone, and write the new ones as part files of their event dates; the dates."""
    processed = contract.paths(lake_url)["processed"]
    columns = ", ".join(contract.EVENT_COLUMNS)
    con.execute(f"""
        create or replace temp view staged as
        select {columns}, cast(event_at as date) as event_date
        from (
            select *, cast(landing_hour as date) as landing_date, '{batch}' as batch_id
            from checked where reason is null
        )
    """)
    touched = [row[0].isoformat() for row in con.execute("select distinct event_date from staged").fetchall()]
    files = [f for day in touched for f in _parquet_files(f"{processed}/event_date={day}")]
    remedy = "restore it from a backup of the lake (S3 versioning): the job deduplicates against it"
    # The first copy of each event id the chunk delivered more than once (about 1% of
    # them). The ids' hashes are grouped first: grouping every id string took 3x as long.
    con.execute("""
        create or replace temp table repeats as
        with repeated_hashes as (
            select hash(event_id) as id_hash from staged group by id_hash having count(*) > 1
        )
        select event_id, min({'source_file': source_file, 'line_number': line_number}) as first_delivery
        from staged
        where hash(event_id) in (select id_hash from repeated_hashes)
        group by event_id
        having count(*) > 1
    """)
    # What is stored already, for the chunk's ids only and in three columns: earlier
    # batches, earlier chunks of this batch (a re-delivery carries its event's event_at, so
    # it meets its first copy in the same date's partition however many chunks apart), and
    # a run of this batch that crashed before its audit.
    _lake_table(
        con,
        "stored",
        "select distinct event_id, source_file, line_number from read_parquet(?, hive_partitioning = false) "
        "where event_id in (select event_id from staged)",
        files,
        empty="select '' as event_id, '' as source_file, 0::bigint as line_number where false",
        remedy=remedy,
    )
    # The deliveries not to write (a few percent): a later copy of an id the chunk delivered
    # more than once, or the first copy of an id already stored. A stored row with the same
    # file and line is this very delivery, stored by a crashed run: processed, not a duplicate.
    con.execute("""
        create or replace temp table not_new as
        select c.source_file, c.line_number, c.event_date, 'duplicate' as outcome
        from staged as c
        inner join repeats as r on r.event_id = c.event_id
        where r.first_delivery != {'source_file': c.source_file, 'line_number': c.line_number}

        union all

        select
            c.source_file, c.line_number, c.event_date,
            case
                when e.source_file = c.source_file and e.line_number = c.line_number then 'reprocessed'
                else 'duplicate'
            end as outcome
        from staged as c
        inner join stored as e on e.event_id = c.event_id
        left join repeats as r on r.event_id = c.event_id
        where r.event_id is null or r.first_delivery = {'source_file': c.source_file, 'line_number': c.line_number}
    """)
    con.execute("""
        insert into duplicates
        select source_file, count(*) from not_new where outcome = 'duplicate' group by source_file
    """)
    new_events = """
        select c.* from staged as c
        anti join not_new as x on x.source_file = c.source_file and x.line_number = c.line_number
    """
    dates = _write_parts(con, processed, part, new_events)
    con.execute("drop view staged")
    for table in ("repeats", "stored", "not_new"):
        con.execute(f"drop table {table}")
    return dates


def _write_side_tables(con: duckdb.DuckDBPyConnection, lake_url: str, batch: str) -> None:
    paths = contract.paths(lake_url)
    con.execute(f"""
        create temp table audit as
        -- Every valid line of a file is processed (new, or stored already by a crashed run
        -- of this batch) or a duplicate; a file's lines are all in one chunk.
        select
            '{batch}' as batch_id,
            lines.source_file,
            lines.landing_date,
            lines.delivered,
            lines.delivered - lines.quarantined - coalesce(duplicates.duplicates, 0) as processed,
            lines.quarantined,
            coalesce(duplicates.duplicates, 0) as duplicates,
            '{ENGINE}' as engine,
            now()::timestamp as processed_at
        from lines
        left join duplicates using (source_file)
    """)
    fs, _ = fsspec.core.url_to_fs(paths["processed"])
    bad = con.execute("select count(*) from rejected").fetchone()[0]
    if bad:
        _copy(
            con,
            fs,
            f"""
            select source_file, line_number, cast(landing_hour as date) as landing_date,
                reason, raw_line, '{batch}' as batch_id
            from rejected order by source_file, line_number
        """,
            f"{paths['quarantine']}/{batch}",
        )
    _copy(con, fs, "select * from audit order by source_file", f"{paths['audit']}/{batch}")


def _remove_staging(processed: str) -> None:
    """A killed run's staging folders. One job per lake runs at a time (the DATA_DIR lock),
    so any is a killed run's. dbt reads only ``event_date=*/`` folders, but a reader that
    walks ``processed/clickstream/**`` would count their rows."""
    fs, base = fsspec.core.url_to_fs(processed)
    for folder in fs.glob(f"{base}/.staging*"):
        fs.rm(folder, recursive=True)


def _write_parts(con: duckdb.DuckDBPyConnection, processed: str, part: str, query: str) -> set[str]:
    """The events of ``query`` (with their ``event_date``) as new part files of their
    partitions: one partitioned COPY into a hidden staging folder, then each file renamed
    into its partition; the dates written. A stop half-way leaves some partitions with their
    part and others without; the next run counts the rows already there as reprocessed and
    writes only the rest."""
    fs, base = fsspec.core.url_to_fs(processed)
    staging = f"{processed}/.staging-{part}"
    _, staging_base = fsspec.core.url_to_fs(staging)
    fs.makedirs(base, exist_ok=True)
    con.execute(f"""
        copy ({query}) to '{staging}' (format parquet, partition_by (event_date), compression snappy,
            filename_pattern 'part-{{i}}')
    """)
    dates: set[str] = set()
    if not fs.exists(staging_base):  # no row to write
        return dates
    for folder in sorted(fs.glob(f"{staging_base}/event_date=*")):
        name = folder.rstrip("/").rsplit("/", 1)[-1]
        dates.add(name.split("=", 1)[1])
        final = f"{base}/{name}"
        fs.makedirs(final, exist_ok=True)
        for i, source in enumerate(sorted(fs.glob(f"{folder}/*.parquet"))):
            fs.mv(source, f"{final}/part-{part}-{i:02d}.parquet")
    fs.rm(staging_base, recursive=True)
    return dates


def _copy(con: duckdb.DuckDBPyConnection, fs, query: str, folder: str) -> None:
    """Replace the Parquet files of ``folder`` with the result of ``query``.

    The file is written beside its final name and moved into place, then any other file
    in the folder (another engine's part files) is removed.
    """
    _, local_folder = fsspec.core.url_to_fs(folder)
    fs.makedirs(local_folder, exist_ok=True)
    staged = f"{folder}/.{PART_FILE}.inprogress"
    con.execute(f"copy ({query}) to '{staged}' (format parquet, compression zstd)")
    final = f"{local_folder}/{PART_FILE}"
    fs.mv(f"{local_folder}/.{PART_FILE}.inprogress", final)
    for other in fs.ls(local_folder, detail=False):
        if other.rstrip("/") != final and not other.rsplit("/", 1)[-1].startswith("."):
            fs.rm(other, recursive=True)


def _lake_table(
    con: duckdb.DuckDBPyConnection, name: str, select: str, files: list[str], empty: str, remedy: str
) -> None:
    """Temp table ``name``: ``select`` over the lake's Parquet ``files`` (its ``?``), or, with no
    file, ``empty`` (the same columns, no row)."""
    if files:
        _read_lake_parquet(con, f"create or replace temp table {name} as {select}", files, lambda url: remedy)
    else:
        con.execute(f"create or replace temp table {name} as {empty}")


def _read_lake_parquet(
    con: duckdb.DuckDBPyConnection, sql: str, files: list[str], remedy: Callable[[str], str]
) -> duckdb.DuckDBPyConnection:
    """Run ``sql`` over the lake's Parquet ``files``; one that is not Parquet is named in one line.

    ``remedy(url)`` says what to do about the file, which depends on what the job keeps in it.
    """
    try:
        return con.execute(sql, [files])
    except duckdb.Error as exc:
        for url in files:
            fs, path = fsspec.core.url_to_fs(url)
            try:
                with fs.open(path, "rb") as handle:
                    pq.ParquetFile(handle)
            except (OSError, pa.ArrowException) as broken:
                raise PlatformError(
                    f"the lake file {url} is not a readable Parquet file ({str(broken).strip().splitlines()[0]}):"
                    f" {remedy(url)}; nothing was written"
                ) from exc
        raise


def _parquet_files(url: str) -> list[str]:
    fs, base = fsspec.core.url_to_fs(url)
    protocol = url.split("://", 1)[0] + "://" if "://" in url else ""
    return sorted(protocol + path for path in fs.glob(f"{base}/**/*.parquet"))
