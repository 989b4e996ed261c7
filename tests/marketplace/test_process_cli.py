"""`marketplace process`, through click's runner, on a hand-written landing zone."""

from __future__ import annotations

from click.testing import CliRunner

from marketplace.cli import main
from tests.processing.clickstream.conftest import event


def test_process_reports_the_batch_and_then_nothing_new(landing, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(landing.lake.parent))
    monkeypatch.delenv("LAKE_URL", raising=False)
    landing.drop("1998-03-02 08", [event("a", "1998-03-02T07:59:00.000Z")] * 2 + ["{oops"])
    runner = CliRunner()
    first = runner.invoke(main, ["process", "clickstream", "--engine", "duckdb"])
    assert first.exit_code == 0, first.output
    assert "clickstream (duckdb): 1 files, 3 lines → 1 kept, 1 quarantined, 1 duplicates" in first.output
    again = runner.invoke(main, ["process", "all"])
    assert again.exit_code == 0, again.output
    assert "0 files, 0 lines" in again.output


def test_an_unreadable_landing_file_is_a_one_line_error(landing, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(landing.lake.parent))
    monkeypatch.delenv("LAKE_URL", raising=False)
    broken = landing.root / "1998/03/02/09/clickstream-b-1998-03-02-09.json.gz"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not gzip at all")
    result = CliRunner().invoke(main, ["process"])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot read landing file 1998/03/02/09/")
    assert len(result.output.strip().splitlines()) == 1
