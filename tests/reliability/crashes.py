"""Killing a pipeline in a chosen step, for the crash tests and their benchmark.

dlt's working folder of a pipeline (``$DATA_DIR/dlt/<pipeline>``) shows which step a run
is in; the test watches it and SIGKILLs the run's process group then: a real crash at a
known point, with no hook in the pipelines' code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from marketplace.devenv import BIN, ROOT

PHASES = ("extract", "normalize", "load")


def phase_under_way(working_dir: Path, phase: str) -> bool:
    """What dlt's working folder of a pipeline shows while a step runs.

    extract: the extraction's own folder (``normalize/<extract id>/<load id>``, moved to
    ``normalize/extracted`` when the extraction ends); normalize: the package being
    written (``load/new/<load id>``); load: the package handed to the loader
    (``load/normalized/<load id>``, moved to ``load/loaded`` at the end) or, for the shop,
    whose load has a dozen jobs, one of its jobs already done (so files have landed).
    """
    if phase == "extract":
        return any(p.parent.name != "extracted" for p in working_dir.glob("normalize/*/*"))
    if phase == "normalize":
        return any(working_dir.glob("load/new/*"))
    if working_dir.name == "shop":
        return any(working_dir.glob("load/normalized/*/completed_jobs/*"))
    return any(working_dir.glob("load/normalized/*"))


def pending_packages(working_dir: Path) -> list[str]:
    """Load ids of the packages a run left for the next one to finish."""
    patterns = ("normalize/extracted/*", "load/new/*", "load/normalized/*")
    return sorted({p.name for pattern in patterns for p in working_dir.glob(pattern)})


def start(env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen:
    """A command in its own process group, so that a test can stop or kill all of it."""
    return subprocess.Popen(
        list(args),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=kwargs.pop("stderr", subprocess.PIPE),
        text=True,
        start_new_session=True,
        **kwargs,
    )


def kill_during(env: dict[str, str], name: str, phase: str) -> list[str]:
    """Run `marketplace ingest <name>`, SIGKILL its process group in ``phase``; returns
    the load ids of the packages it left behind."""
    working_dir = Path(env["DATA_DIR"]) / "dlt" / name
    proc = start(env, str(BIN / "marketplace"), "ingest", name, stderr=subprocess.STDOUT)
    while proc.poll() is None:
        if phase_under_way(working_dir, phase):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return pending_packages(working_dir)
        time.sleep(0.002)
    raise RuntimeError(
        f"ingest {name} ended (exit {proc.returncode}) before its {phase} step was seen: {proc.stdout.read()}"
    )
