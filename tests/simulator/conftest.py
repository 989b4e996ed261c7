"""Simulated sources as fixtures: the simulator tests check them, the pipeline tests load them."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator import partners, payments, shop
from simulator.context import SimContext
from tests.conftest import platform_settings

CUTOFF = shop.DEFAULT_CUTOFF


def _shop(data_dir: Path) -> SimContext:
    ctx = SimContext(platform_settings(data_dir))
    shop.init(ctx, CUTOFF)
    return ctx


def _payments(data_dir: Path) -> SimContext:
    ctx = _shop(data_dir)
    payments.init(ctx)
    return ctx


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> SimContext:
    """A shop and a payments provider with history up to the cutoff (shared, read-only)."""
    return _payments(tmp_path_factory.mktemp("payments-history"))


@pytest.fixture
def fresh(tmp_path) -> SimContext:
    """A shop and payments provider of the test's own, to load and advance."""
    return _payments(tmp_path)


@pytest.fixture
def no_configured_payments_api(monkeypatch):
    """The local payments API and its defaults, whatever the developer's environment configures."""
    for name in ("SOURCES__PAYMENTS__BASE_URL", "SOURCES__PAYMENTS__TOKEN", "PAYMENTS_API_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def feeds(tmp_path, monkeypatch) -> SimContext:
    """A shop and its partners' file drops up to the cutoff, of the test's own."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    ctx = _shop(tmp_path)
    partners.init(ctx)
    return ctx
