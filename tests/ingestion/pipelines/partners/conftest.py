"""The simulated partner file drops that the pipeline tests load (defined with the simulator tests)."""

from tests.simulator.conftest import feeds  # noqa: F401
