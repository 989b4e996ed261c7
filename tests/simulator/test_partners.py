"""The simulated partner file drops: messy headers, blank lines, re-sends, determinism."""

from __future__ import annotations

from pathlib import Path

from simulator import partners
from tests.simulator.conftest import CUTOFF


def test_files_are_as_messy_as_promised(feeds):
    landing = Path(partners.landing_url(feeds.settings))
    headers = {p.name: (p / f"{CUTOFF}.csv").read_text().splitlines()[0] for p in landing.iterdir()}
    assert set(headers) == set(partners.PARTNERS)
    assert len(set(headers.values())) == len(headers), "each partner writes its own header"
    early = (landing / "acme" / f"{partners.first_day(feeds)}.csv").read_text().splitlines()[0]
    assert "lead_time_days" not in early and "lead_time_days" in headers["acme"]
    files = sorted(landing.glob("*/*.csv"))
    assert any("" in f.read_text().splitlines() for f in files), "some files have blank lines"
    resent = [f for f in files if f.stem.endswith("-resend")]
    assert resent
    for copy in resent:
        original = copy.with_name(copy.name.replace("-resend", ""))
        assert copy.read_bytes() == original.read_bytes()


def test_producing_a_day_twice_writes_the_same_bytes(feeds):
    files = sorted(Path(partners.landing_url(feeds.settings)).glob(f"*/{CUTOFF}*.csv"))
    before = {f: f.read_bytes() for f in files}
    partners.produce_day(feeds, CUTOFF)
    assert {f: f.read_bytes() for f in files} == before
