"""Fixtures the shop pipeline's tests share."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def postgres_shop_url() -> Iterator[str]:
    """The URL of an empty ``shop`` database on a throwaway PostgreSQL server, removed after the test."""
    from ingestion.devservices import postgres

    pg_dir = Path(tempfile.mkdtemp(prefix="shop-pg-"))
    server = postgres.start(pg_dir)
    try:
        yield postgres.create_database(server, "shop")
    finally:
        postgres.stop(pg_dir, remove=True)
