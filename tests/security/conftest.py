"""The simulated payments provider that the secret-leak and loopback tests use (defined with the simulator tests)."""

from tests.simulator.conftest import fresh, history, no_configured_payments_api  # noqa: F401
