"""The hand-written clickstream landing zone that `marketplace process` runs on (defined with the job's tests)."""

from tests.processing.clickstream.conftest import landing  # noqa: F401
