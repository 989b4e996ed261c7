"""The simulated payments provider that the secret-leak tests load (defined with the simulator tests)."""

from tests.simulator.conftest import fresh, no_configured_payments_api  # noqa: F401
