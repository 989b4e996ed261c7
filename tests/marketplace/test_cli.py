"""The CLI's user-facing behaviour: worked examples in --help, one-line errors, exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from marketplace.cli import main


@pytest.fixture
def invoke(tmp_path):
    runner = CliRunner()

    def _invoke(*args: str, **env: str):
        base = {
            "DATA_DIR": str(tmp_path / "data"),
            **dict.fromkeys(("LAKE_URL", "SHOP_DB_URL", "SF", "DBT_STATE_DIR")),
        }
        return runner.invoke(main, list(args), env={**base, **env})

    return _invoke


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


GROUPS = [[], *([name] for name in sorted(main.commands))]
COMMANDS = [[group, name] for group, cmd in sorted(main.commands.items()) for name in getattr(cmd, "commands", {})]


@pytest.mark.parametrize("command", GROUPS, ids=lambda c: " ".join(c) or "marketplace")
def test_every_group_has_worked_examples(invoke, command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and "marketplace " in result.output


def test_the_command_groups_are_the_documented_ones():
    assert set(main.commands) == {
        "simulate",
        "ingest",
        "process",
        "serve",
        "report",
        "bench",
        "pg",
        "settings",
        "docs",
        "dashboard",
        "bi",
        "metrics",
        "dev-build",
        "publish",
        "lock",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_subcommand_has_help(invoke, command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage: marketplace" in result.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["simulate", "init", "--sf", "500"], {}, "SF=500 is out of range"),
        (["simulate", "init"], {"SF": "0"}, "SF=0 is out of range"),
        (["simulate", "init", "--cutoff", "2001-01-01"], {}, "cutoff 2001-01-01 is outside TPC-H's order dates"),
        (["simulate", "advance"], {}, "no shop database at"),
        (["ingest", "shop"], {}, "no shop database at"),
        (["ingest", "shop"], {"DBT_TARGET": "bigquery"}, "unknown dbt target 'bigquery'"),
        (["simulate", "init"], {"SHOP_DB_URL": "mysql://db/shop"}, "expected sqlite:///PATH or postgresql://"),
        (
            ["ingest", "shop"],
            {"INGEST_DESTINATION": "s3"},
            "INGEST_DESTINATION='s3' is not accepted: choose one of auto, lake, warehouse",
        ),
        (["ingest", "clickstream"], {"CLICKSTREAM_DELIVERY": "kafka"}, "CLICKSTREAM_DELIVERY='kafka' is not accepted"),
        (["settings", "show"], {"PG_PORT": "five"}, "PG_PORT='five' is not an integer"),
        (["ingest", "payments"], {"PAYMENTS_API_RATE_LIMIT": "2"}, "PAYMENTS_API_RATE_LIMIT=2 is out of range"),
        (
            ["ingest", "payments"],
            {"SOURCES__PAYMENTS__BASE_URL": "http://127.0.0.1:9"},
            "payments: set SOURCES__PAYMENTS__TOKEN",
        ),
        (["dev-build"], {}, "no production manifest at"),
    ],
    ids=[
        "sf-flag",
        "sf-env",
        "cutoff",
        "advance-before-init",
        "ingest-before-init",
        "target",
        "db-url",
        "destination",
        "delivery",
        "port",
        "rate-limit",
        "token-missing",
        "dev-build-before-build",
    ],
)
def test_bad_input_is_one_clear_line(invoke, args, env, message):
    assert message in one_line_error(invoke(*args, **env))


def test_corrupt_shop_database_is_reported_and_nothing_lands(invoke, tmp_path):
    db = tmp_path / "data" / "sources" / "shop.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    assert "is not an SQLite database" in one_line_error(invoke("ingest", "shop"))
    assert not (tmp_path / "data" / "lake").exists()


def test_unwritable_lake_is_reported_before_any_data_moves(invoke, tmp_path):
    assert invoke("simulate", "init", "--cutoff", "1998-07-30").exit_code == 0
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lake should be")
    line = one_line_error(invoke("ingest", "shop", LAKE_URL=str(blocker / "lake")))
    assert "is not writable" in line
    assert not (tmp_path / "data" / "dlt").exists(), "no load package was started"


def test_init_advance_status_round_trip(invoke):
    assert "simulated date is 1998-07-30" in invoke("simulate", "init", "--cutoff", "1998-07-30").output
    assert "simulated date is now 1998-08-01" in invoke("simulate", "advance", "--days", "2").output
    status = invoke("simulate", "status")
    assert status.exit_code == 0 and "shop         1998-08-01" in status.output


def test_init_only_some_sources_and_advance_leaves_the_others_alone(invoke, tmp_path):
    result = invoke("simulate", "init", "--cutoff", "1998-07-30", "--only", "payments")
    assert result.exit_code == 0, result.output
    assert "simulated date is now 1998-07-31" in invoke("simulate", "advance").output
    status = invoke("simulate", "status").output
    assert "payments     1998-07-31" in status
    assert "clickstream" not in status and "partners" not in status
    assert not (tmp_path / "data" / "lake" / "landing" / "clickstream").exists()
