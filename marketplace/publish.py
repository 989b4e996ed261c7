"""`make publish`: write, audit, publish. Production only ever sees a build whose tests all passed.

``dbt build`` writes into a staging area, every test (with ``--store-failures``) runs
there, and only when all of them pass is the staging area swapped into place in one step.
A failing test leaves the live marts exactly as they were, and its failing rows stay in
the staging area's audit schema for the user to read.

DuckDB (targets ``dev`` and ``ci``): the staging area is a copy of the warehouse file,
``$DATA_DIR/publish/warehouse.duckdb`` (profile target ``publish``). A copy, not a fresh
build, because incremental models and snapshots continue from yesterday's state: a fresh
file would rebuild every incremental model in full each day and lose the snapshots'
history, which the sources no longer hold. The copy is taken while a read-only
connection holds the live file, so no writer can change it mid-copy (DuckDB lets readers
share a file and refuses a writer while any connection holds it). Publishing is
``os.replace``: one rename on the same file system, so the path never goes missing, a
reader that has the old file open keeps reading it, and the next open sees the new one.

PostgreSQL (target ``pg``): the staging area is a set of schemas named like the live
ones plus ``__staging`` (``macros/publish/generate_schema_name.sql``). The tables of
incremental models and snapshots are copied in first, for the same reason as above;
publishing renames, in one transaction, each live schema to ``__previous`` and its
staging schema to the live name, then drops the previous ones. PostgreSQL views refer to
tables by identity, not by name, so the staging views follow their tables through the
rename. docs/reliability.md has the same recipe for Redshift and Athena.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion import duck
from ingestion.errors import PlatformError
from ingestion.settings import Settings
from marketplace.devenv import BIN, caller_env

DUCKDB_TARGETS = ("dev", "ci")
PUBLISH_TARGET = "publish"  # profiles/profiles.yml: the DuckDB staging file
STAGING_SUFFIX = "__staging"
PREVIOUS_SUFFIX = "__previous"
# What a successful publish leaves beside the live warehouse for the docs site, the
# dashboard and `make dev-build`, as `make build` does.
ARTIFACTS = ("manifest.json", "run_results.json", "semantic_manifest.json")
# How long the swap waits for queries holding a live mart before it gives up.
SWAP_LOCK_TIMEOUT = "30s"


@dataclass(frozen=True)
class Failure:
    """A node that did not pass in staging; for a test, how many rows failed and where they are."""

    resource_type: str
    name: str
    status: str
    failures: int | None = None
    relation: str | None = None
    message: str = ""

    def line(self, where: str) -> str:
        if self.resource_type == "test" and self.status == "fail" and self.relation:
            rows = "row" if self.failures == 1 else "rows"
            return f"{self.status.upper()} {self.name}: {self.failures} failing {rows} in {self.relation} ({where})"
        text = " ".join(self.message.split())[:300]
        return f"{self.status.upper()} {self.resource_type} {self.name}: {text}"


@dataclass
class Outcome:
    """What a publish did: ``published`` only when every node passed in staging."""

    engine: str
    live: str  # the live warehouse file, or the database the schemas are in
    staging: str  # the staging file, or the staging schemas
    published: bool = False
    failures: list[Failure] = field(default_factory=list)
    swapped: list[str] = field(default_factory=list)  # PostgreSQL: the live schemas replaced
    build_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def audit_place(self) -> str:
        """Where a failing test's audit table is: the staging file, or the database (its name has the schema)."""
        return self.staging if self.engine == "duckdb" else self.live


def publish(settings: Settings, project_dir: Path, fail_fast: bool = False) -> Outcome:
    """Build and test in staging; swap into place only if everything passed."""
    if settings.dbt_target in DUCKDB_TARGETS:
        return publish_duckdb(settings, project_dir, fail_fast)
    if settings.dbt_target == "pg":
        return publish_postgres(settings, project_dir, fail_fast)
    raise PlatformError(
        f"marketplace publish runs on the dev, ci and pg targets, not {settings.dbt_target}: "
        "docs/reliability.md (write-audit-publish) describes the same swap for Redshift and Athena"
    )


# -- dbt --------------------------------------------------------------------------------


def _dbt(
    command: str, target: str, project_dir: Path, target_path: Path, settings: Settings, extra: Sequence[str] = ()
) -> int:
    cmd = [str(BIN / "dbt"), command, "--target", target, "--project-dir", str(project_dir)]
    cmd += ["--profiles-dir", str(project_dir / "profiles"), "--target-path", str(target_path)]
    cmd += ["--log-path", str(target_path.parent / "logs"), *extra]
    # dbt runs in the project folder: hand it DATA_DIR as this command resolved it.
    return subprocess.run(cmd, env=caller_env(DATA_DIR=str(settings.data_dir)), check=False).returncode


def _build(settings: Settings, project_dir: Path, target: str, target_path: Path, extra: Sequence[str]) -> int:
    (target_path / "run_results.json").unlink(missing_ok=True)
    return _dbt("build", target, project_dir, target_path, settings, ["--store-failures", *extra])


def failures(target_path: Path) -> list[Failure]:
    """Every node of the last run that neither passed nor succeeded, with its failing rows' relation."""
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return []
    manifest = json.loads((target_path / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    found = []
    for result in json.loads(results_file.read_text())["results"]:
        if result["status"] in ("success", "pass", "skipped", "warn"):
            continue
        node = nodes.get(result["unique_id"], {})
        kind = result["unique_id"].split(".", 1)[0]
        found.append(
            Failure(
                resource_type=kind,
                name=node.get("name", result["unique_id"]),
                status=result["status"],
                failures=result.get("failures"),
                relation=node.get("relation_name") if kind == "test" else None,
                message=result.get("message") or "",
            )
        )
    return found


def _failed(outcome: Outcome, target_path: Path, returncode: int) -> Outcome:
    outcome.failures = failures(target_path) or [
        Failure("dbt", "build", "error", message=f"dbt build exited {returncode}; its output above says why")
    ]
    return outcome


def _keep_artifacts(settings: Settings, project_dir: Path, target_path: Path) -> None:
    """After a publish: dbt's artifacts where `make build` leaves them, and the state for dev-build."""
    main_target = settings.dbt_target_path
    main_target = main_target if main_target.is_absolute() else project_dir / main_target
    main_target.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACTS:
        if (target_path / name).exists():
            shutil.copyfile(target_path / name, main_target / name)
    settings.dbt_state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target_path / "manifest.json", settings.dbt_state_dir / "manifest.json")


# -- DuckDB -----------------------------------------------------------------------------


def staging_dir(settings: Settings) -> Path:
    return settings.data_dir / "publish"


def staging_warehouse(settings: Settings) -> Path:
    """The staging copy: the live file's own name, in its own folder (profiles.yml, target publish)."""
    return staging_dir(settings) / settings.warehouse_path.name


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@contextmanager
def _no_writer(live: Path) -> Iterator[None]:
    """Hold a read-only connection on ``live``: readers may come and go, no writer can start."""
    try:
        con = duckdb.connect(str(live), read_only=True)
    except duckdb.IOException as exc:
        holder = re.search(r"held in (.*?\(PID \d+\))", str(exc))
        raise PlatformError(
            f"the warehouse {live} is open for writing by another process "
            f"({holder[1] if holder else str(exc)[:200]}): publish when it has finished; nothing was published"
        ) from None
    try:
        yield
    finally:
        con.close()


def _signature(live: Path) -> tuple:
    """Changes whenever anything writes the live file (or leaves a write-ahead log beside it)."""
    stat = live.stat()
    wal = _wal(live)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, wal.exists() and wal.stat().st_mtime_ns


def _checkpoint(live: Path, settings: Settings) -> None:
    """Fold a write-ahead log left by a writer that did not close cleanly into the file itself.

    The copy must be one self-contained file: a stale log beside a swapped-in file would
    be replayed onto the wrong database.
    """
    try:
        con = duck.connect(str(live), settings=settings)
    except duckdb.IOException as exc:
        raise PlatformError(f"the warehouse {live} is in use ({str(exc)[:200]}); nothing was published") from None
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _clone(source: Path, dest: Path) -> None:
    """Copy a file; copy_file_range lets file systems that can (XFS, Btrfs) share the blocks instead."""
    with source.open("rb") as src, dest.open("wb") as dst:
        remaining = os.fstat(src.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(src.fileno(), dst.fileno(), remaining)
                if copied == 0:
                    break
                remaining -= copied
        except OSError:  # e.g. across file systems on an older kernel: an ordinary copy
            src.seek(0)
            dst.seek(0)
            dst.truncate()
            shutil.copyfileobj(src, dst, 16 * 1024 * 1024)


def publish_duckdb(settings: Settings, project_dir: Path, fail_fast: bool = False) -> Outcome:
    started = time.monotonic()
    live, staged = settings.warehouse_path, staging_warehouse(settings)
    target_path = staging_dir(settings) / "target"
    outcome = Outcome("duckdb", str(live), str(staged))
    staged.parent.mkdir(parents=True, exist_ok=True)
    for stale in (staged, _wal(staged)):
        stale.unlink(missing_ok=True)

    before = None
    if live.exists():
        if _wal(live).exists():
            _checkpoint(live, settings)
        with _no_writer(live):
            before = _signature(live)
            _clone(live, staged)

    build_started = time.monotonic()
    returncode = _build(settings, project_dir, PUBLISH_TARGET, target_path, ["--fail-fast"] if fail_fast else [])
    outcome.build_seconds = time.monotonic() - build_started
    if returncode != 0:
        outcome.seconds = time.monotonic() - started
        return _failed(outcome, target_path, returncode)

    if before is None:
        os.replace(staged, live)  # the first publish: nothing live to guard
    else:
        with _no_writer(live):
            if _signature(live) != before:
                raise PlatformError(
                    f"the warehouse {live} changed while publish was building (another writer); "
                    "nothing was published: run marketplace publish again"
                )
            os.replace(staged, live)
    outcome.published = True
    _keep_artifacts(settings, project_dir, target_path)
    outcome.seconds = time.monotonic() - started
    return outcome


# -- PostgreSQL -------------------------------------------------------------------------


def _pg_connect(settings: Settings):
    import psycopg2

    from ingestion.pipelines.destinations import postgres_url

    try:
        return psycopg2.connect(postgres_url(settings), connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise PlatformError(
            f"cannot reach PostgreSQL at {settings.pg_host}:{settings.pg_port} ({' '.join(str(exc).split())[:200]}): "
            "start it with `make pg-up` or set PG_HOST/PG_PORT"
        ) from None


def _live_name(staging_schema: str) -> str:
    return staging_schema.removesuffix(STAGING_SUFFIX)


def _staging_plan(target_path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """From the staging parse: every schema the build writes, and the stateful relations to carry over."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    schemas, stateful = set(), []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed", "snapshot", "test"):
            continue
        if not node["config"].get("enabled", True):
            continue
        schemas.add(node["schema"])
        if node["resource_type"] == "snapshot" or node["config"].get("materialized") == "incremental":
            stateful.append((node["schema"], node["alias"]))
    odd = sorted(s for s in schemas if not s.endswith(STAGING_SUFFIX))
    if odd:
        raise PlatformError(
            f"schemas {', '.join(odd)} lack the {STAGING_SUFFIX} suffix: a generate_schema_name macro other "
            "than macros/publish/generate_schema_name.sql names them, so they cannot be staged"
        )
    return sorted(schemas), sorted(stateful)


def _schema_exists(cur, name: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", (name,))
    return cur.fetchone() is not None


def _prepare_pg_staging(settings: Settings, schemas: Sequence[str], stateful: Sequence[tuple[str, str]]) -> None:
    """Empty staging schemas, holding a copy of each live incremental model and snapshot."""
    from psycopg2 import sql

    con = _pg_connect(settings)
    try:
        with con, con.cursor() as cur:
            for schema in schemas:
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            for schema, table in stateful:
                live = _live_name(schema)
                cur.execute(
                    "select 1 from information_schema.tables where table_schema = %s and table_name = %s "
                    "and table_type = 'BASE TABLE'",
                    (live, table),
                )
                if cur.fetchone() is None:
                    continue  # not built yet: dbt builds it in full
                staged, source = sql.Identifier(schema, table), sql.Identifier(live, table)
                cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
                cur.execute(sql.SQL("create table {} (like {} including all)").format(staged, source))
                cur.execute(sql.SQL("insert into {} select * from {}").format(staged, source))
    finally:
        con.close()


def _swap_schemas(settings: Settings, schemas: Sequence[str]) -> list[str]:
    """In one transaction: each live schema out of the way, its staging schema in, the old ones dropped."""
    from psycopg2 import errors, sql

    rename = sql.SQL("alter schema {} rename to {}")
    con = _pg_connect(settings)
    swapped = []
    try:
        with con, con.cursor() as cur:
            cur.execute(f"set local lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            for schema in schemas:
                if not _schema_exists(cur, schema):
                    continue  # nothing built there (e.g. no test stored failures)
                live = _live_name(schema)
                previous = live + PREVIOUS_SUFFIX
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(previous)))
                if _schema_exists(cur, live):
                    cur.execute(rename.format(sql.Identifier(live), sql.Identifier(previous)))
                    swapped.append(live)
                cur.execute(rename.format(sql.Identifier(schema), sql.Identifier(live)))
            for live in swapped:
                cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(live + PREVIOUS_SUFFIX)))
    except errors.LockNotAvailable:
        raise PlatformError(
            f"queries held the live marts for more than {SWAP_LOCK_TIMEOUT}, so the swap was rolled back: "
            "nothing was published; run marketplace publish again"
        ) from None
    finally:
        con.close()
    return swapped


def publish_postgres(settings: Settings, project_dir: Path, fail_fast: bool = False) -> Outcome:
    started = time.monotonic()
    _pg_connect(settings).close()  # unreachable: say so before dbt parses for seconds
    target_path = staging_dir(settings) / "pg-target"
    vars_ = ["--vars", json.dumps({"publish_schema_suffix": STAGING_SUFFIX})]
    if _dbt("parse", "pg", project_dir, target_path, settings, vars_) != 0:
        raise PlatformError("dbt parse failed on target pg; its output above says why; nothing was published")
    schemas, stateful = _staging_plan(target_path)
    outcome = Outcome("postgres", f"database {settings.pg_dbname}", ", ".join(schemas))
    _prepare_pg_staging(settings, schemas, stateful)

    build_started = time.monotonic()
    returncode = _build(settings, project_dir, "pg", target_path, [*vars_, *(["--fail-fast"] if fail_fast else [])])
    outcome.build_seconds = time.monotonic() - build_started
    if returncode != 0:
        outcome.seconds = time.monotonic() - started
        return _failed(outcome, target_path, returncode)

    outcome.swapped = _swap_schemas(settings, schemas)
    outcome.published = True
    # The artifacts name the staging schemas, so they stay in the staging target path.
    outcome.seconds = time.monotonic() - started
    return outcome
