"""A run's log carries no warning its user cannot act on.

The platform's own steps (simulate, ingest, process, dbt build) at SF 0.01 must not
print warnings: each one used to be a cause fixed at its source (REAL money columns in
SQLite, dlt's per-row cursor hashes, a missing psutil). A warning that signals a real
problem in the data would be listed here with the reason it stays; none does today.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import STEP_LOGS

pytestmark = pytest.mark.e2e

WARNING = re.compile(r"\bwarn(ing)?\b|UserWarning|DeprecationWarning|FutureWarning", re.IGNORECASE)
# Lines that mention warnings without being one: dbt's summary line counts them.
NOT_A_WARNING = re.compile(r"Done\. PASS=\d+ WARN=0 ")


@pytest.mark.parametrize("step", ["simulate", "ingest", "process", "build"])
def test_the_step_prints_no_warning(built_platform, step):
    log = Path(built_platform["DATA_DIR"]) / STEP_LOGS / f"{step}.log"
    text = log.read_text()
    assert text.strip(), f"{step} printed nothing: the log is not being captured"
    warnings = [line for line in text.splitlines() if WARNING.search(line) and not NOT_A_WARNING.search(line)]
    assert not warnings, f"{step} printed warnings:\n" + "\n".join(warnings)
