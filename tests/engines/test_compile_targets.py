"""Every model compiles with the real Redshift and Athena adapters and would run there.

What is proven without AWS:
- dbt-redshift (its own driver, connection code and macros) compiles every model
  against a PostgreSQL server behind a relay that only drops the startup parameters
  PostgreSQL rejects (see redshift_wire.py); dbt-athena does the same against moto's
  Glue, Athena and S3. So the SQL is what these adapters would send to AWS.
- That SQL parses in sqlglot's redshift/athena dialect and calls only functions on the
  target's allow-list (dialects.py).
What is not proven: that Redshift's or Athena's planner accepts it (types, implicit
casts, Redshift's leader-node-only functions) and what it returns; only a real account
shows that (docs/deploying-to-aws.md, "CI against a real account").
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import dbt, platform_env
from tests.engines import dialects
from tests.engines.conftest import (
    adapter_type,
    aws_env,
    compiled_models,
    create_bucket,
    model_count,
)
from tests.engines.redshift_wire import RedshiftWireRelay

# Compiled as the daily job runs (`make run`): the data tests' run-scope markers must
# become SQL on every adapter (macros/incremental/get_where_subquery.sql).
DAILY = ("--vars", "{tests_scope: run}")
# The markers a data test's `where` names to check only this run's rows (macros/incremental/run_scope_marker.sql).
MARKERS = ("__rows_of_this_run__", "__event_dates_of_this_run__")


@pytest.fixture(scope="module")
def redshift_compiled(pg_server, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("redshift")
    with RedshiftWireRelay(pg_server.port) as relay:
        env = platform_env(
            data_dir,
            DBT_TARGET="redshift",
            REDSHIFT_HOST="127.0.0.1",
            REDSHIFT_PORT=str(relay.port),
            REDSHIFT_USER="postgres",
            REDSHIFT_PASSWORD="trust-auth-ignores-it",
            REDSHIFT_DBNAME="postgres",
            REDSHIFT_SCHEMA="analytics",
            REDSHIFT_SSLMODE="disable",
        )
        dbt(env, "compile", *DAILY)
    return data_dir / "target"


@pytest.fixture(scope="module")
def athena_compiled(moto_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("athena")
    create_bucket(moto_url, "athena-results")
    env = platform_env(
        data_dir,
        DBT_TARGET="athena",
        ATHENA_ENDPOINT_URL=moto_url,
        ATHENA_S3_STAGING_DIR="s3://athena-results/",
        ATHENA_S3_DATA_DIR="s3://athena-results/tables/",
        ATHENA_SCHEMA="analytics",
        **aws_env(moto_url),
    )
    dbt(env, "compile", *DAILY)
    return data_dir / "target"


TARGETS = [
    pytest.param("redshift", "redshift_compiled", marks=pytest.mark.postgres, id="redshift"),
    pytest.param("athena", "athena_compiled", id="athena"),
]


@pytest.mark.parametrize(("dialect", "fixture"), TARGETS)
def test_every_model_compiles_with_the_target_adapter(dialect, fixture, request):
    target_path = request.getfixturevalue(fixture)
    models = compiled_models(target_path)
    assert adapter_type(target_path) == dialect
    assert models, "the project has no models to compile"
    assert len(models) == model_count(target_path), "some models were not compiled"


@pytest.mark.parametrize(("dialect", "fixture"), TARGETS)
def test_compiled_sql_runs_on_the_target_dialect(dialect, fixture, request):
    models = compiled_models(request.getfixturevalue(fixture))
    problems = [p for name, sql in sorted(models.items()) for p in dialects.check(name, sql, dialect)]
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize(("dialect", "fixture"), TARGETS)
def test_scoped_data_tests_compile_to_sql(dialect, fixture, request):
    manifest = json.loads((request.getfixturevalue(fixture) / "manifest.json").read_text())
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    tests = {n["name"]: n.get("compiled_code") or "" for n in nodes}
    for marker in MARKERS:
        scoped = [n["name"] for n in nodes if marker in (n["config"].get("where") or "")]
        assert scoped, f"no data test is scoped to the run by {marker} any more"
        assert all(tests[name] for name in scoped), "some scoped data tests were not compiled"
        leaked = [name for name, sql in tests.items() if marker in sql]
        assert not leaked, f"{marker} left in the SQL of {leaked[:3]}"


@pytest.mark.parametrize(
    ("dialect", "fixture", "expected"),
    [
        pytest.param(*TARGETS[0].values, "md5(", marks=pytest.mark.postgres, id="redshift"),
        pytest.param(*TARGETS[1].values, "to_hex(md5(to_utf8(", id="athena"),
    ],
)
def test_cross_database_macros_dispatch_to_the_target(dialect, fixture, expected, request):
    """dbt.hash in surrogate_key renders the adapter's own SQL, not DuckDB's."""
    models = compiled_models(request.getfixturevalue(fixture))
    hashed = {name: sql for name, sql in models.items() if "md5(" in sql.lower()}
    assert hashed, "no model uses dbt.hash any more: pick another dispatched macro"
    for name, sql in hashed.items():
        assert expected in sql.lower().replace(" ", ""), name


@pytest.mark.parametrize(
    ("dialect", "sql", "complaint"),
    [
        ("redshift", "select arg_max(a, b) from t", "calls arg_max()"),
        ("redshift", "select strftime(d, '%Y') from t", "calls strftime()"),
        ("redshift", "select * from read_parquet('lake/*.parquet')", "calls read_parquet()"),
        ("redshift", "select date_diff('day', a, b) from t", "calls date_diff()"),
        ("athena", "select a from t qualify row_number() over (order by a) = 1", "does not parse"),
        ("athena", "select datediff('day', a, b) from t", "calls datediff()"),
        ("athena", "select list_aggregate(l, 'sum') from t", "calls list_aggregate()"),
        ("athena", "select a::int from t", "uses a :: cast"),
    ],
    ids=[
        "redshift-arg_max",
        "redshift-strftime",
        "redshift-read_parquet",
        "redshift-date_diff",
        "athena-qualify",
        "athena-datediff",
        "athena-list_aggregate",
        "athena-double-colon-cast",
    ],
)
def test_a_function_the_target_lacks_fails(dialect, sql, complaint):
    problems = dialects.check("bad_model", sql, dialect)
    assert problems and complaint in str(problems[0])


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("redshift", "select datediff(day, a, b), listagg(x, ',') from t qualify a = 1"),
        ("athena", "select date_diff('day', a, b), max_by(x, y) from t"),
    ],
    ids=["redshift", "athena"],
)
def test_target_sql_passes(dialect, sql):
    assert dialects.check("good_model", sql, dialect) == []
