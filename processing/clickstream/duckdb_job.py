"""The clickstream job on DuckDB: the twin of ``spark_job`` for inputs that fit one machine.

One run is one batch: the landing files no audit row mentions yet (the audit under
``processed/clickstream_audit/`` is the bookmark), parsed against the event contract.
Lines that break it go to ``quarantine/clickstream/`` with a reason, source file and
line number. Valid events are deduplicated by ``event_id`` within the batch and against
the processed zone, which is the dedup memory: an event id already stored in its
``event_date`` partition is a duplicate delivery, unless it is the very same line (same
file and line number) of a batch that crashed before writing its audit. Only the
partitions that receive new events are rewritten, each as one file written aside and
then moved into place. The audit, written last, commits the batch.

Memory stays flat as history grows: the batch is read in chunks of landing files (about
``CHUNK_BYTES`` of gzip each, in file order), each parsed and staged as Parquet by event
date in a scratch folder under ``DUCKDB_TEMP_DIRECTORY``; then the staged events are
deduplicated and written a group of event dates at a time (about ``GROUP_ROWS`` events).
A re-delivery carries its event's ``event_at``, so all copies of an event id meet in the
same date group however many chunks apart they arrived.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.settings import Settings, load_settings
from processing.clickstream import contract

log = logging.getLogger(__name__)

ENGINE = "duckdb"
PART_FILE = "part-00000.parquet"
# Gzip bytes of landing files read and parsed at once (about 5x that as text in memory).
CHUNK_BYTES = 32 * 1024**2
# Staged events deduplicated and written at once (whole event dates, at least one).
GROUP_ROWS = 1_000_000
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
    group_rows: int = GROUP_ROWS,
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
            scratch = scratch_folder(settings, lake_url, batch)
            remove_scratch(settings, lake_url)  # a killed run's, whatever batch it held
            try:
                chunks = _chunks(new, landing, chunk_bytes)
                staged = _stage(con, lake_url, batch, chunks, scratch)
                dates = _write_partitions(con, lake_url, staged, group_rows)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            _write_side_tables(con, lake_url, batch)
            counts = con.execute(
                "select sum(delivered), sum(processed), sum(quarantined), sum(duplicates) from audit"
            ).fetchone()
            summary = _summary(batch, len(new), dates, counts, started)
            summary["chunks"] = len(chunks)
            return summary
    finally:
        con.close()


def scratch_folder(settings: Settings, lake_url: str, batch: str) -> Path:
    """Where a batch's parsed events are staged: under DUCKDB_TEMP_DIRECTORY, named by the
    lake (a hash of its URL: one spill folder may serve several lakes) and the batch."""
    return settings.duckdb_temp_directory / f"clickstream-{_lake_tag(lake_url)}-{batch}"


def remove_scratch(settings: Settings, lake_url: str) -> None:
    """Every scratch folder of this lake's batches. One job per lake runs at a time (the
    DATA_DIR lock), so at its start any is a killed run's: new landing files change the batch
    id, and without this the old folder would stay for good."""
    for folder in settings.duckdb_temp_directory.glob(f"clickstream-{_lake_tag(lake_url)}-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _lake_tag(lake_url: str) -> str:
    return hashlib.sha256(lake_url.rstrip("/").encode()).hexdigest()[:12]


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


def _stage(
    con: duckdb.DuckDBPyConnection, lake_url: str, batch: str, chunks: list[list[str]], scratch: Path
) -> dict[date, list[str]]:
    """Parse the batch chunk by chunk: counts and rejected lines into small tables, valid
    events into ``scratch`` as Parquet by event date. Returns {event date: staged files}."""
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
    scratch.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(contract.EVENT_COLUMNS)
    for number, chunk in enumerate(chunks):
        con.register("lines_arrow", _read_lines(lake_url, chunk))
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
        # Uncompressed: the scratch is read once and deleted, and snappy cost about 6% of
        # the job's time at SF 1 (docs/benchmarks.md).
        con.execute(f"""
            copy (
                select {columns}, cast(event_at as date) as event_date
                from (
                    select *, cast(landing_hour as date) as landing_date, '{batch}' as batch_id
                    from checked where reason is null
                )
            ) to '{scratch / f"chunk-{number:05d}"}'
                (format parquet, partition_by (event_date), compression uncompressed)
        """)
        con.execute("drop table checked")
    staged: dict[date, list[str]] = {}
    for path in sorted(scratch.glob("chunk-*/event_date=*/*.parquet")):
        day = date.fromisoformat(path.parent.name.split("=", 1)[1])
        staged.setdefault(day, []).append(str(path))
    return staged


def _groups(con: duckdb.DuckDBPyConnection, staged: dict[date, list[str]], group_rows: int) -> list[list[date]]:
    """Event dates in order, cut into runs of about ``group_rows`` staged events."""
    groups: list[list[date]] = [[]]
    total = 0
    for day in sorted(staged):
        rows = con.execute("select sum(num_rows) from parquet_file_metadata(?)", [staged[day]]).fetchone()[0]
        if groups[-1] and total + rows > group_rows:
            groups.append([])
            total = 0
        groups[-1].append(day)
        total += rows
    return groups


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
            data = gzip.decompress(fs.cat_file(f"{base}/{source}"))
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


def _write_partitions(
    con: duckdb.DuckDBPyConnection, lake_url: str, staged: dict[date, list[str]], group_rows: int
) -> list[str]:
    """Deduplicate and write the staged events a group of dates at a time; the dates rewritten."""
    con.execute("create or replace temp table event_counts (source_file varchar, processed bigint, duplicates bigint)")
    dates: list[str] = []
    if not staged:
        return dates
    for group in _groups(con, staged, group_rows):
        dates += _write_group(con, lake_url, group, [f for day in group for f in staged[day]])
    return dates


def _write_group(
    con: duckdb.DuckDBPyConnection, lake_url: str, group: list[date], staged_files: list[str]
) -> list[str]:
    processed = contract.paths(lake_url)["processed"]
    listed = ", ".join(f"'{duck.literal(f)}'" for f in staged_files)
    con.execute(
        f"create or replace temp view staged as select * from read_parquet([{listed}], hive_partitioning = false)"
    )
    touched = [day.isoformat() for day in group]
    files = {day: _parquet_files(f"{processed}/event_date={day}") for day in touched}
    columns = ", ".join(contract.EVENT_COLUMNS)
    remedy = "restore it from a backup of the lake (S3 versioning): the job deduplicates against it"
    # The first copy of each event id the batch delivered more than once (about 1% of
    # them): a grouping of the ids alone, where a window over every staged row sorted
    # whole rows by id.
    con.execute("""
        create or replace temp table repeats as
        select event_id, min({'source_file': source_file, 'line_number': line_number}) as first_delivery
        from staged
        group by event_id
        having count(*) > 1
    """)
    # What is stored already, for the batch's ids only and in three columns: a day's
    # re-deliveries reach back to any date of the history, and reading those whole
    # partitions cost minutes at SF 10 for a few thousand duplicates.
    _lake_table(
        con,
        "stored",
        "select distinct event_id, source_file, line_number from read_parquet(?, hive_partitioning = false) "
        "where event_id in (select event_id from staged)",
        [f for day in touched for f in files[day]],
        empty="select '' as event_id, '' as source_file, 0::bigint as line_number where false",
        remedy=remedy,
    )
    # A stored row with the same file and line is this very delivery, stored by a batch
    # that crashed before its audit: processed, not a duplicate. A view, read twice (the
    # tally below, then the partitioned COPY): as a temp table it copied every staged row
    # once more (at SF 1, 8% of the job's time and 0.17 GiB of its peak).
    con.execute(f"""
        create or replace temp view outcome as
        with copies as (
            select
                c.*,
                r.event_id is null
                    or r.first_delivery = {{'source_file': c.source_file, 'line_number': c.line_number}} as first_copy
            from staged as c
            left join repeats as r on r.event_id = c.event_id
        )
        select
            {", ".join(f"c.{column}" for column in contract.EVENT_COLUMNS)},
            cast(c.event_at as date) as event_date,
            case
                when not c.first_copy then 'duplicate'
                when e.event_id is null then 'new'
                when e.source_file = c.source_file and e.line_number = c.line_number
                    then 'reprocessed'
                else 'duplicate'
            end as outcome
        from copies as c
        left join stored as e on c.first_copy and e.event_id = c.event_id
    """)
    con.execute("""
        create or replace temp table tally as
        select source_file, event_date, outcome, count(*) as events from outcome group by all
    """)
    dates = [
        row[0].isoformat()
        for row in con.execute("select distinct event_date from tally where outcome = 'new' order by 1").fetchall()
    ]
    # Whole rows only of the partitions this group rewrites.
    _lake_table(
        con,
        "existing",
        # distinct: a run that stopped while swapping files may have left a row twice.
        f"select distinct {columns}, cast(event_date as date) as event_date "
        "from read_parquet(?, hive_partitioning = true)",
        [f for day in dates for f in files[day]],
        empty=f"select {columns}, event_date from outcome where false",
        remedy=remedy,
    )
    # A view: the partitioned COPY reads it once, so a temp table only copied every row
    # once more (at SF 1, 7% of the job's time and 0.23 GiB of its peak).
    con.execute(f"""
        create or replace temp view to_write as
        select {columns}, event_date from outcome where outcome = 'new'
        union all
        select * from existing
    """)
    if dates:
        _write_by_date(con, processed, columns, dates)
    con.execute("""
        insert into event_counts
        select
            source_file,
            coalesce(sum(events) filter (where outcome in ('new', 'reprocessed')), 0),
            coalesce(sum(events) filter (where outcome = 'duplicate'), 0)
        from tally
        group by source_file
    """)
    for view in ("to_write", "outcome", "staged"):
        con.execute(f"drop view {view}")
    for table in ("repeats", "stored", "existing", "tally"):
        con.execute(f"drop table {table}")
    return dates


def _write_side_tables(con: duckdb.DuckDBPyConnection, lake_url: str, batch: str) -> None:
    paths = contract.paths(lake_url)
    con.execute(f"""
        create temp table audit as
        with events as (
            select
                source_file,
                cast(sum(processed) as bigint) as processed,
                cast(sum(duplicates) as bigint) as duplicates
            from event_counts
            group by source_file
        )
        select
            '{batch}' as batch_id,
            lines.source_file,
            lines.landing_date,
            lines.delivered,
            coalesce(events.processed, 0) as processed,
            lines.quarantined,
            coalesce(events.duplicates, 0) as duplicates,
            '{ENGINE}' as engine,
            now()::timestamp as processed_at
        from lines
        left join events using (source_file)
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


def _write_by_date(con: duckdb.DuckDBPyConnection, processed: str, columns: str, dates: list[str]) -> None:
    """Rewrite the partitions of ``dates``: one partitioned COPY into a hidden staging
    folder, then each partition's files renamed over the old ones and any other file there
    (e.g. Spark's part files) removed. A stop half-way leaves at worst a row twice, which
    the next run's read of the partition (``select distinct``) absorbs."""
    fs, base = fsspec.core.url_to_fs(processed)
    staging = f"{processed}/.staging"
    _, staging_base = fsspec.core.url_to_fs(staging)
    if fs.exists(staging_base):
        fs.rm(staging_base, recursive=True)
    fs.makedirs(base, exist_ok=True)
    con.execute(f"""
        copy (
            select {columns}, event_date from to_write
            where event_date in ({", ".join(f"'{day}'" for day in dates)})
        ) to '{staging}' (format parquet, partition_by (event_date), compression snappy,
            filename_pattern 'part-{{i}}')
    """)
    for day in dates:
        folder = f"{base}/event_date={day}"
        fs.makedirs(folder, exist_ok=True)
        staged = sorted(fs.glob(f"{staging_base}/event_date={day}/*.parquet"))
        finals = [f"{folder}/part-{i:05d}.parquet" for i in range(len(staged))]
        for source, final in zip(staged, finals, strict=True):
            fs.mv(source, final)
        for other in fs.ls(folder, detail=False):
            if other.rstrip("/") not in finals:
                fs.rm(other, recursive=True)
    fs.rm(staging_base, recursive=True)


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
