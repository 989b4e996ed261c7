"""Killing a command in a chosen step, for the crash tests and their benchmark.

What a run leaves on disk shows which step it is in: dlt's working folder of a pipeline
(``$DATA_DIR/dlt/<pipeline>``), dbt's debug log (each statement is logged before it runs),
a processing job's staging folders. The test watches it and SIGKILLs the
run's process group then: a real crash at a known point, with no hook in the code.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
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
    """Load ids of the packages a run left for the next one to finish.

    Only names that are load ids (a timestamp): a kill while dlt moves a finished package
    to ``load/loaded`` can leave an empty folder with a random name in ``load/normalized``,
    which no run loads or minds."""
    patterns = ("normalize/extracted/*", "load/new/*", "load/normalized/*")
    found = {p.name for pattern in patterns for p in working_dir.glob(pattern)}
    return sorted(name for name in found if re.fullmatch(r"\d+(\.\d+)?", name))


def start(env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen:
    """A command in its own process group, so that a test can stop or kill all of it."""
    return subprocess.Popen(
        list(args),
        cwd=ROOT,
        env=env,
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=kwargs.pop("stderr", subprocess.PIPE),
        text=True,
        start_new_session=True,
        **kwargs,
    )


def seen(under_way: Callable[[], bool]) -> bool:
    """``under_way()``, False while the command moves or deletes what it scans (a folder
    listed a moment ago is gone): the next poll looks again."""
    try:
        return under_way()
    except FileNotFoundError:
        return False


def kill_when(env: dict[str, str], args: list[str], under_way: Callable[[], bool], output: Path) -> bool:
    """Run ``args`` (output to ``output``), SIGKILL its process group as soon as
    ``under_way()``; False if the command ended first (it must have succeeded)."""
    with output.open("w") as out:
        proc = start(env, *args, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            if seen(under_way):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.001)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed (exit {proc.returncode}): {output.read_text()[-3000:]}")
    return False


def kill_during(env: dict[str, str], name: str, phase: str) -> list[str]:
    """Run `marketplace ingest <name>`, SIGKILL its process group in ``phase``; returns
    the load ids of the packages it left behind."""
    working_dir = Path(env["DATA_DIR"]) / "dlt" / name
    output = Path(env["DATA_DIR"]) / f"killed-ingest-{name}.log"
    args = [str(BIN / "marketplace"), "ingest", name]
    if not kill_when(env, args, lambda: phase_under_way(working_dir, phase), output):
        raise RuntimeError(f"ingest {name} ended before its {phase} step was seen: {output.read_text()[-3000:]}")
    return pending_packages(working_dir)


class DbtStatement:
    """Whether a dbt run is inside a node's transaction: dbt's debug log (``dbt.log`` in
    the run's DBT_LOG_PATH) shows the node's statement matching ``pattern``, logged just
    before it runs, and not yet the node's COMMIT."""

    def __init__(self, log_path: Path, node: str, pattern: str):
        self.log = log_path / "dbt.log"
        self.node = node
        self.pattern = re.compile(pattern)
        self._offset = 0
        self._text = ""

    def _read(self) -> str:
        try:
            with self.log.open() as handle:
                handle.seek(self._offset)
                new = handle.read()
                self._offset = handle.tell()
        except FileNotFoundError:
            return self._text
        self._text += new
        return self._text

    def __call__(self) -> bool:
        return bool(self.pattern.search(self._read()))

    def missed(self) -> bool:
        """Read after the kill: the node's transaction had committed, the kill came too late."""
        text = self._read()
        found = self.pattern.search(text)
        return bool(found) and f"On {self.node}: COMMIT" in text[found.end() :]


def dbt_relation_statement(verb: str, name: str) -> str:
    """A pattern for dbt's ``<verb> "<database>"."<schema>"."<name>"`` statement in its log."""
    return rf'{verb} "[^"]+"\."[^"]+"\."{name}"\s'
