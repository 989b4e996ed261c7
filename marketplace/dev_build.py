"""`make dev-build`: the analyst's change loop.

Build and test only what changed since the last production build, and everything
downstream of it, without touching production. dbt compares the working project with the
production manifest that `make build` saved in ``DBT_STATE_DIR`` (``state:modified+``)
and builds the selection into the ``sandbox`` target: a scratch DuckDB file beside the
warehouse that attaches the warehouse read-only. Every ref to a model outside the
selection is deferred (``--defer``) to the production relation named in that manifest,
``"warehouse"."main"."<model>"``, which is why the attach alias is the warehouse's own
catalog name.

The sandbox starts empty on every run, so it holds exactly "production plus your
change": nothing left from an earlier attempt shadows a production relation, and an
incremental model you changed is built in full there.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings
from marketplace.devenv import BIN, caller_env
from marketplace.servers import require_warehouse

SANDBOX_TARGET = "sandbox"
DEFAULT_SELECT = ("state:modified+",)
# The node types `dbt build` builds or tests (it also lists downstream exposures, as no-ops).
BUILT_TYPES = ("seed", "model", "snapshot", "test", "unit_test")


@dataclass(frozen=True)
class Built:
    unique_id: str
    status: str

    @property
    def resource_type(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        # model.<project>.<name>, test.<project>.<name>.<hash>, unit_test.<project>.<model>.<name>
        parts = self.unique_id.split(".")
        return parts[-1] if self.resource_type == "unit_test" else parts[2]


def sandbox_path(settings: Settings) -> Path:
    """The scratch DuckDB file (profiles/profiles.yml, target ``sandbox``)."""
    return settings.data_dir / "sandbox.duckdb"


def sandbox_target_path(settings: Settings) -> Path:
    """dbt's artifacts of the sandbox run, apart from production's target/."""
    return settings.data_dir / "sandbox" / "target"


def production_manifest(settings: Settings) -> Path:
    """The manifest of the last production build, or a one-line error naming what to run."""
    manifest = settings.dbt_state_dir / "manifest.json"
    if not manifest.exists():
        raise PlatformError(
            f"no production manifest at {manifest}: dev-build compares your project with the last "
            "production build; run `make build` (or `make demo`) first"
        )
    adapter = json.loads(manifest.read_text())["metadata"].get("adapter_type")
    if adapter != "duckdb":
        raise PlatformError(
            f"the production manifest at {manifest} comes from a {adapter} build, but the sandbox defers "
            "to the DuckDB warehouse: run `make build` with DBT_TARGET=dev first"
        )
    return manifest


def build(
    settings: Settings,
    project_dir: Path,
    select: Sequence[str] = DEFAULT_SELECT,
    exclude: Sequence[str] = (),
) -> list[Built]:
    """Run ``dbt build`` on the selection in the sandbox, deferring the rest to production.

    dbt's own output streams to the terminal; returns what it ran (from run_results.json).
    """
    state_dir = production_manifest(settings).parent
    require_warehouse(settings.warehouse_path)
    sandbox = sandbox_path(settings)
    for stale in (sandbox, sandbox.with_name(sandbox.name + ".wal")):
        stale.unlink(missing_ok=True)
    target_path = sandbox_target_path(settings)
    results = target_path / "run_results.json"
    results.unlink(missing_ok=True)

    cmd = [str(BIN / "dbt"), "build", "--target", SANDBOX_TARGET, "--defer", "--state", str(state_dir)]
    cmd += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir / "profiles")]
    cmd += ["--target-path", str(target_path), "--log-path", str(target_path.parent / "logs")]
    # A full parse (seconds): dbt's partial-parse cache in this target path, written for
    # another project folder (a copy, a worktree), kept that folder's contract columns and
    # failed the contract check of a model that had not changed.
    cmd += ["--no-partial-parse"]
    cmd += ["--select", *select]
    if exclude:
        cmd += ["--exclude", *exclude]
    # dbt runs in the project folder: hand it DATA_DIR as this command resolved it, so
    # the profile's warehouse and sandbox paths are the ones checked above.
    proc = subprocess.run(cmd, env=caller_env(DATA_DIR=str(settings.data_dir)), check=False)
    if proc.returncode != 0:
        raise PlatformError(
            f"dbt build in the sandbox failed (exit {proc.returncode}); dbt's summary above names what failed. "
            "Production is untouched"
        )
    return built_nodes(results)


def built_nodes(run_results: Path) -> list[Built]:
    """What a dbt run built or tested, and the exposures downstream, in the order it ran.

    The project's hooks are left out; no file means nothing ran.
    """
    if not run_results.exists():
        return []
    results = json.loads(run_results.read_text())["results"]
    nodes = [Built(r["unique_id"], r["status"]) for r in results]
    return [node for node in nodes if node.resource_type != "operation"]


def summary(built: Sequence[Built], settings: Settings) -> str:
    """What the run built, and the dashboards downstream of it, in lines for the terminal."""
    ran = [node for node in built if node.resource_type in BUILT_TYPES]
    if not ran:
        return (
            f"nothing changed since the last production build ({settings.dbt_state_dir / 'manifest.json'}): "
            "no model to build or test"
        )
    counts: dict[str, int] = {}
    for node in ran:
        counts[node.resource_type] = counts.get(node.resource_type, 0) + 1
    tally = ", ".join(f"{n} {kind.replace('_', ' ')}{'s' if n != 1 else ''}" for kind, n in counts.items())
    failed = [node for node in ran if node.status not in ("success", "pass")]
    lines = [
        f"built in the sandbox {sandbox_path(settings)}: {tally}" + (f", {len(failed)} not passed" if failed else "")
    ]
    lines += [
        f"  {node.resource_type:<9} {node.name:<40} {node.status}" for node in ran if node.resource_type != "test"
    ]
    lines += [
        f"  {node.resource_type:<9} {node.name:<40} {node.status}" for node in failed if node.resource_type == "test"
    ]
    exposures = [node.name for node in built if node.resource_type == "exposure"]
    if exposures:
        lines.append(f"downstream exposures (dashboards to check): {', '.join(exposures)}")
    lines.append("production (the warehouse and its manifest) is untouched")
    return "\n".join(lines)
