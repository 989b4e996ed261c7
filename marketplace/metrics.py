"""`make metrics`: MetricFlow's own command line (`mf`) on the dbt project, one example."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ingestion.errors import PlatformError
from ingestion.settings import Settings
from marketplace.devenv import BIN, child_env
from marketplace.servers import require_warehouse


def run_example(settings: Settings, project_dir: Path, queries: Sequence[tuple[str, str]]) -> None:
    if settings.dbt_target in ("dev", "ci"):
        require_warehouse(settings.warehouse_path)
    # mf reads the semantic manifest from <project>/target (never DBT_TARGET_PATH) and the
    # project from DBT_PROJECT_DIR; dbt parse writes that manifest.
    env = child_env(settings.data_dir, DBT_TARGET=settings.dbt_target, DBT_PROJECT_DIR=str(project_dir))
    env.pop("DBT_TARGET_PATH")
    env.pop("DBT_LOG_PATH")
    steps = [[str(BIN / "dbt"), "parse", "--quiet"], [str(BIN / "mf"), "validate-configs", "--skip-dw"]]
    for metric_names, group_by in queries:
        query = [str(BIN / "mf"), "query", "--metrics", metric_names, "--decimals", "4"]
        if group_by:
            query += ["--group-by", group_by, "--order", group_by]
        steps.append(query)
    for cmd in steps:
        shown = " ".join(Path(cmd[0]).name if i == 0 else part for i, part in enumerate(cmd))
        print(f"$ {shown}", flush=True)
        proc = subprocess.run(cmd, cwd=project_dir, env=env, capture_output=True, text=True)
        # mf draws a spinner on stdout; keep the result, not the animation frames.
        lines = [line.split("\r")[-1] for line in proc.stdout.splitlines()]
        output = "\n".join(line for line in lines if line.strip() and "⠋" not in line and "⠙" not in line)
        if output:
            print(output, flush=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            raise PlatformError(f"`{shown}` failed (exit {proc.returncode}); its output is above")
        print(flush=True)
