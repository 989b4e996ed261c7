"""A scale factor that cannot fit DATA_DIR's disk stops before anything is written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from simulator.footprint import expected, folder_bytes
from tests.conftest import cli, platform_env, platform_settings

pytestmark = pytest.mark.e2e  # the fit test initialises a platform at SF 0.01


@pytest.fixture
def small_disk(tmp_path):
    """A 256 MiB tmpfs as DATA_DIR: a real file system that really runs out of room."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_too_large_a_scale_factor_stops_before_writing(small_disk):
    data_dir = small_disk / "data"
    proc = cli(platform_env(data_dir), "simulate", "init", "--sf", "1", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    needed = expected(platform_settings(data_dir, SF="1")).needed
    assert lines[0].startswith("error: SF 1 needs about "), lines[0]
    assert f"{needed / 1024**3:,.1f} GiB" in lines[0]
    assert "MiB is free" in lines[0] and str(data_dir) in lines[0]
    assert not data_dir.exists() or not any(data_dir.rglob("*")), "nothing may be written"


def test_a_scale_factor_that_fits_runs_and_the_estimate_covers_it(small_disk):
    data_dir = small_disk / "data"
    env = platform_env(data_dir)
    cli(env, "simulate", "init", "--sf", "0.01")
    written = folder_bytes(data_dir)
    assert (data_dir / "sources" / "shop.db").stat().st_size > 0
    assert 0 < written <= expected(platform_settings(data_dir)).needed


def test_the_estimate_covers_a_whole_run(built_platform):
    """After simulate, ingest, process and build at SF 0.01, DATA_DIR holds less than estimated."""
    data_dir = Path(built_platform["DATA_DIR"])
    settings = platform_settings(data_dir)
    footprint = expected(settings)
    held = folder_bytes(data_dir)
    assert held <= footprint.needed, (held, footprint)
    assert footprint.needed <= 4 * held, f"the estimate {footprint.needed} is far above the {held} bytes held"
