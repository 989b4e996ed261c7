"""A hand-written clickstream landing zone, so each test controls exactly what arrives."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest


def event(event_id: str, at: str, event_type: str = "page_view", **extra) -> str:
    body = {
        "event_id": event_id,
        "event_type": event_type,
        "event_at": at,
        "visitor_id": "c7",
        "customer_id": 7,
        "device": "web",
        **extra,
    }
    return json.dumps(body)


class Landing:
    def __init__(self, lake: Path):
        self.lake = lake
        self.root = lake / "landing" / "clickstream"

    def drop(self, hour: str, lines: list[str], name: str = "a") -> str:
        """Write ``lines`` as a gzip file arriving at ``hour`` (``YYYY-MM-DD HH``)."""
        at = datetime.strptime(hour, "%Y-%m-%d %H")
        relative = f"{at:%Y/%m/%d/%H}/clickstream-{name}-{at:%Y-%m-%d-%H}.json.gz"
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode()))
        return relative


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Landing:
    # The job's spill folder follows DATA_DIR: a temporary one, never the user's.
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return Landing(tmp_path / "lake")
