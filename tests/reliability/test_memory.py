"""Memory (issue 13, scenario 9): under a small DuckDB memory limit the clickstream job
(which spills to DUCKDB_TEMP_DIRECTORY) and ``dbt build`` give exactly the lake and
marts a run without the limit gives.

At SF 0.01 the limit is 128 MB: at 64 MB the job stops on memory DuckDB cannot spill
(one line naming DUCKDB_MEMORY_LIMIT) and so do some of dbt's models. Issue 13 asks for
the same at SF 1 under 1 GiB, which is too slow for ``make test``.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from ingestion.settings import load_settings
from processing.clickstream import contract
from tests.conftest import ROOT, cli, dbt, platform_env

pytestmark = pytest.mark.e2e

LIMIT = "128MB"
MARTS = sorted(p.stem for p in (ROOT / "models" / "marts").rglob("*.sql"))


class SpillWatch:
    """Names that appear in ``folder`` while the block runs (DuckDB deletes its spill files),
    and the most bytes seen in it at once (benchmarks/memory.py)."""

    def __init__(self, folder: Path, every: float = 0.01):
        self.folder, self.every = folder, every
        self.seen: set[str] = set()
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.seen.update(p.name for p in self.folder.iterdir())
                size = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
                self.peak_bytes = max(self.peak_bytes, size)
            except OSError:
                continue

    def __enter__(self) -> SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _spill_files(names: set[str]) -> set[str]:
    return {name for name in names if name.startswith("duckdb_temp_")}


@pytest.fixture(scope="module")
def limited(built_platform, tmp_path_factory) -> tuple[Path, Path]:
    """built_platform's ingested lake processed and built again under LIMIT.

    Returns both DATA_DIRs (without the limit, with it)."""
    free = Path(built_platform["DATA_DIR"])
    data = tmp_path_factory.mktemp("limited")
    # The ingested sources only: processing and the build run again under the limit.
    shutil.copytree(free / "lake", data / "lake")
    shutil.rmtree(data / "lake" / "processed")
    shutil.rmtree(data / "lake" / "quarantine" / contract.SOURCE)
    # the same PII salt, or the dimensions' hashed names differ
    salt = {"PII_SALT": built_platform["PII_SALT"]} if "PII_SALT" in built_platform else {}
    env = platform_env(data, SF="0.01", DUCKDB_MEMORY_LIMIT=LIMIT, DUCKDB_TEMP_DIRECTORY=str(data / "spill"), **salt)
    with SpillWatch(data / "spill") as job:
        cli(env, "process", "all")
    dbt(env, "build")
    # The job spilled DuckDB blocks there. (dbt's queries at SF 0.01 fit in 128 MB: below
    # it they fail on memory DuckDB cannot spill.)
    assert _spill_files(job.seen), job.seen
    shown = dbt(env, "show", "--inline", "select current_setting('memory_limit') as limit_now", "--output", "json")
    with duckdb.connect() as reference:
        reference.execute(f"set memory_limit = '{LIMIT}'")
        expected = reference.sql("select current_setting('memory_limit')").fetchone()[0]
    assert f'"limit_now": "{expected}"' in shown.stdout
    return free, data


@pytest.mark.parametrize("zone", ["processed", "quarantine", "audit"])
def test_the_job_under_the_limit_writes_the_same_lake(limited, zone):
    free, data = limited
    columns = "* exclude (processed_at)" if zone == "audit" else "*"

    def rows(root: Path) -> str:
        folder = contract.paths(str(root / "lake"))[zone]
        return f"select {columns} from read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"

    a, b = rows(free), rows(data)
    assert duckdb.sql(f"select count(*) from ({a})").fetchone()[0] > 0
    differ = duckdb.sql(f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))")
    assert differ.fetchone()[0] == 0


@pytest.mark.parametrize("mart", MARTS)
def test_marts_built_under_the_limit_equal_the_unlimited_ones(limited, mart):
    free, data = limited
    with duckdb.connect() as con:
        con.execute(f"attach '{load_settings({'DATA_DIR': str(free)}).warehouse_path}' as free (read_only)")
        con.execute(f"attach '{load_settings({'DATA_DIR': str(data)}).warehouse_path}' as limited (read_only)")
        [schema] = con.execute(
            "select distinct table_schema from information_schema.tables"
            " where table_catalog = 'free' and table_name = ?",
            [mart],
        ).fetchone()
        a, b = f"select * from free.{schema}.{mart}", f"select * from limited.{schema}.{mart}"
        assert con.sql(f"select count(*) from ({a})").fetchone()[0] > 0
        differ = con.sql(f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))")
        assert differ.fetchone()[0] == 0


def test_a_dbt_node_out_of_memory_names_the_setting_and_keeps_the_table(limited, tmp_path):
    """What DuckDB cannot spill fails the node; dbt's run ends with one line naming the
    setting to raise, and the model's table from the last build is left as it was."""
    _, built = limited
    data = tmp_path / "data"
    shutil.copytree(built / "lake", data / "lake")
    shutil.copy(built / "warehouse.duckdb", data / "warehouse.duckdb")
    warehouse = load_settings({"DATA_DIR": str(data)}).warehouse_path

    def rows() -> int:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            [schema] = con.execute(
                "select table_schema from information_schema.tables where table_name = 'fct_order_lines'"
            ).fetchone()
            return con.execute(f"select count(*) from {schema}.fct_order_lines").fetchone()[0]

    before = rows()
    # two levels that do not exist yet: DuckDB creates only the last one when it spills,
    # so dbt's plugin (marketplace/pii_salt.py) creates the folder as dbt starts
    spill = data / "tmp" / "spill"
    # 8 MB: dbt's own start-up queries fit (at 1 MB they sometimes do not, and dbt stops with
    # exit status 2 before any node or hook runs), fct_order_lines does not (it fails at 16 MB)
    env = platform_env(data, SF="0.01", DUCKDB_MEMORY_LIMIT="8MB", DUCKDB_TEMP_DIRECTORY=str(spill))
    failed = dbt(env, "run", "--select", "fct_order_lines", "--full-refresh", check=False)
    assert spill.is_dir()
    assert failed.returncode == 1
    assert "Out of Memory Error" in failed.stdout
    lines = [line for line in failed.stdout.splitlines() if "raise DUCKDB_MEMORY_LIMIT" in line]
    assert len(lines) == 1, failed.stdout[-3000:]
    assert "DuckDB ran out of memory in fct_order_lines at DUCKDB_MEMORY_LIMIT=8MB" in lines[0]
    assert f"DUCKDB_TEMP_DIRECTORY={spill}" in lines[0]
    assert rows() == before > 0

    quiet = dbt(platform_env(data, SF="0.01"), "run", "--select", "fct_order_lines")
    assert "raise DUCKDB_MEMORY_LIMIT" not in quiet.stdout
    assert rows() == before
