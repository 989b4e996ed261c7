"""The equivalence property (issue 13, scenario 10): whatever order the daily steps run
in, with crashes among them, the platform ends in the marts of one full build.

Hypothesis draws short sequences of the steps a team (or a scheduler retrying tasks)
runs against one DATA_DIR: release a simulated day, ingest, process, an incremental
build, a full-refresh build, and an ingest SIGKILLed in one of dlt's steps. Each
sequence starts from a copy of one SF 0.01 platform that was built once, and ends with
the daily run (ingest, process, incremental build). The warehouse must then equal a
`--full-refresh` build of the same lake, mart for mart and row for row, and the shop
marts must reconcile with the shop database day by day.

The budget is fixed and small (two sequences of two or three steps a run: minutes each,
since every step is a real command); a failure prints the sequence that broke it, and
every run's sequences are in `sequences.jsonl` beside the test's platform.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from simulator import init_sources
from tests.conftest import cli, dbt, platform_env, platform_settings
from tests.e2e.test_shop_reconciliation import assert_same_marts, reconcile
from tests.reliability.crashes import PHASES, kill_during

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MODELS = (
    "+fct_orders +fct_order_lines +fct_daily_revenue +fct_daily_cash_revenue +fct_payment_reconciliation "
    "+fct_supplier_stock +fct_sessions +fct_daily_funnel"
)
MARTS = {"fct_orders", "fct_order_lines", "fct_daily_revenue", "fct_daily_cash_revenue", "fct_sessions"}
# the daily run's build: its tests check the rows it wrote (make run)
BUILD = ("build", "--vars", "{tests_scope: run}", "--exclude-resource-type", "unit_test")

STEPS = st.one_of(
    st.just(("advance",)),
    st.just(("ingest",)),
    st.just(("process",)),
    st.just(("build",)),
    st.just(("full-refresh",)),
    st.tuples(st.just("crash"), st.sampled_from(("shop", "payments", "partners")), st.sampled_from(PHASES)),
)


def build(env: dict[str, str], *extra: str) -> None:
    dbt(env, *BUILD, *extra, "--indirect-selection", "cautious", "--select", *MODELS.split())


def take(env: dict[str, str], step: tuple) -> str:
    """Run one step; what happened, for the report of a failing sequence."""
    match step:
        case ("advance",):
            cli(env, "simulate", "advance", "--days", "1")
        case ("ingest",):
            cli(env, "ingest", "all")
        case ("process",):
            cli(env, "process", "all")
        case ("build",):
            build(env)
        case ("full-refresh",):
            build(env, "--full-refresh")
        case ("crash", pipeline, phase):
            try:
                left = kill_during(env, pipeline, phase)
            except RuntimeError:  # nothing new to load: the run ended before that step
                return f"{pipeline} ran to its end before {phase}"
            return f"{pipeline} killed in {phase}, {len(left)} package(s) left"
    return " ".join(step)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One SF 0.01 platform, ingested, processed and built: every sequence starts from a copy."""
    root = tmp_path_factory.mktemp("equivalence")
    data = root / "data"
    env = platform_env(data, SF="0.01")
    init_sources(platform_settings(data), date(1998, 7, 25))
    for step in (("ingest",), ("process",), ("full-refresh",)):
        take(env, step)
    return {"root": root, "data": data, "runs": iter(range(1000))}


@settings(
    max_examples=2,
    deadline=None,
    database=None,
    # no shrinking: each step is a real command, and a shrink of a failure would take hours
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=2, max_size=3))
def test_any_sequence_of_steps_ends_in_the_marts_of_one_full_build(built, steps):
    data = built["root"] / f"run-{next(built['runs'])}"
    shutil.copytree(built["data"], data, symlinks=True)
    env = platform_env(data, SF="0.01")
    done = [take(env, step) for step in steps]
    for step in (("ingest",), ("process",), ("build",)):
        done.append(take(env, step))
    warehouse = data / "warehouse.duckdb"
    daily = data.parent / f"{data.name}-daily.duckdb"
    shutil.copy(warehouse, daily)
    build(env, "--full-refresh")
    counts = assert_same_marts(daily, str(warehouse), MARTS)
    assert all(counts[m] > 0 for m in MARTS), (done, counts)
    assert reconcile(env) > 2000, done
    with (built["root"] / "sequences.jsonl").open("a") as log:
        log.write(json.dumps(done) + "\n")
    shutil.rmtree(data)
    daily.unlink()
