"""The QuickSight and Tableau definitions behind the exposures (`marketplace bi export`).

dbt parses the project once (no warehouse needed); the expectations come from that
manifest, read here on its own: which exposures feed QuickSight or Tableau, which marts
they depend on, and each mart's contracted columns. QuickSight requests are checked
against botocore's QuickSight service model, offline.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from click.testing import CliRunner

from dashboards.bi.quicksight import validate
from marketplace.cli import main
from tests.conftest import cli, dbt, platform_env

ACCOUNT, REGION, SCHEMA = "123456789012", "us-east-1", "marts_for_bi"
WAREHOUSES = ("redshift", "athena")
# The mapping under test: dbt data_type (without precision) -> (QuickSight InputColumn type, Tableau datatype).
TYPES = {
    "string": ("STRING", "string"),
    "bigint": ("INTEGER", "integer"),
    "integer": ("INTEGER", "integer"),
    "decimal": ("DECIMAL", "real"),
    "double": ("DECIMAL", "real"),
    "date": ("DATETIME", "date"),
    "timestamp": ("DATETIME", "datetime"),
    "boolean": ("BIT", "boolean"),
}
OPERATIONS = {"data-source.json": "CreateDataSource", "data-sets": "CreateDataSet", "analyses": "CreateAnalysis"}


def input_shape(operation: str):
    return botocore.session.get_session().get_service_model("quicksight").operation_model(operation).input_shape


def mapped(data_type: str) -> tuple[str, str]:
    return TYPES[data_type.split("(")[0].strip().lower()]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("bi")
    env = platform_env(data_dir)
    dbt(env, "parse", "--quiet")
    manifest_path = data_dir / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    exposures = {
        e["name"]: e for e in manifest["exposures"].values() if e["meta"].get("tool") in ("quicksight", "tableau")
    }
    marts = {n: manifest["nodes"][n] for e in exposures.values() for n in e["depends_on"]["nodes"]}
    return {"env": env, "manifest": manifest_path, "exposures": exposures, "marts": marts, "dir": data_dir}


@pytest.fixture(scope="module", params=WAREHOUSES)
def exported(request, project) -> tuple[str, Path]:
    out = project["dir"] / f"out-{request.param}"
    args = ["bi", "export", "--manifest", str(project["manifest"]), "--out", str(out), "--warehouse", request.param]
    cli(project["env"], *args, "--account-id", ACCOUNT, "--region", REGION, "--schema", SCHEMA)
    return request.param, out


def quicksight_exposures(project) -> list[dict]:
    return [e for e in project["exposures"].values() if e["meta"]["tool"] == "quicksight"]


def mart_nodes(project, exposure: dict) -> list[dict]:
    return [project["marts"][n] for n in exposure["depends_on"]["nodes"]]


def requests(out: Path):
    for path in sorted((out / "quicksight").rglob("*.json")):
        key = path.name if path.parent.name == "quicksight" else path.parent.name
        yield path, OPERATIONS[key], json.loads(path.read_text())


def test_the_project_has_what_the_tests_check(project):
    tools = {e["meta"]["tool"] for e in project["exposures"].values()}
    assert tools == {"quicksight", "tableau"}
    for mart in project["marts"].values():
        assert mart["config"]["contract"]["enforced"], f"{mart['name']} is not contracted"
        assert mart["columns"] and all(c["data_type"] for c in mart["columns"].values())


def test_every_quicksight_request_passes_the_service_model(exported):
    _, out = exported
    found = list(requests(out))
    assert {operation for _, operation, _ in found} == set(OPERATIONS.values())
    for path, operation, params in found:
        validate_parameters(params, input_shape(operation))  # raises on an error
        assert validate(operation, params) == [], path


def test_a_broken_request_is_reported(exported):
    _, out = exported
    path = next(p for p, operation, _ in requests(out) if operation == "CreateDataSet")
    params = json.loads(path.read_text())

    wrong_type = copy.deepcopy(params)
    next(iter(wrong_type["PhysicalTableMap"].values()))["RelationalTable"]["InputColumns"][0]["Type"] = "BIGINT"
    errors = validate("CreateDataSet", wrong_type)
    assert len(errors) == 1 and "InputColumns[0].Type: 'BIGINT' is not one of" in errors[0]

    no_name = copy.deepcopy(params)
    del no_name["Name"]
    assert any('required parameter in input: "Name"' in e for e in validate("CreateDataSet", no_name))
    with pytest.raises(ParamValidationError):
        validate_parameters(no_name, input_shape("CreateDataSet"))

    bad_id = copy.deepcopy(params)
    bad_id["AwsAccountId"] = "12345678901x"
    assert any("AwsAccountId" in e for e in validate("CreateDataSet", bad_id))
    assert validate("CreateDataSet", params) == []  # the request as exported


def test_data_sets_carry_every_contracted_column_with_its_type(project, exported):
    warehouse, out = exported
    source = json.loads((out / "quicksight" / "data-source.json").read_text())
    assert source["Type"] == warehouse.upper() and source["AwsAccountId"] == ACCOUNT
    source_arn = f"arn:aws:quicksight:{REGION}:{ACCOUNT}:datasource/{source['DataSourceId']}"
    expected_marts = {m["name"] for e in quicksight_exposures(project) for m in mart_nodes(project, e)}
    assert {p.stem for p in (out / "quicksight" / "data-sets").glob("*.json")} == expected_marts
    for name in expected_marts:
        node = next(m for m in project["marts"].values() if m["name"] == name)
        data_set = json.loads((out / "quicksight" / "data-sets" / f"{name}.json").read_text())
        assert data_set["ImportMode"] == "DIRECT_QUERY"
        (physical,) = data_set["PhysicalTableMap"].values()
        table = physical["RelationalTable"]
        assert (table["DataSourceArn"], table["Schema"], table["Name"]) == (source_arn, SCHEMA, node["alias"])
        columns = [(c["Name"], c["Type"]) for c in table["InputColumns"]]
        assert columns == [(c["name"], mapped(c["data_type"])[0]) for c in node["columns"].values()]


def _referenced_columns(tree) -> list[dict]:
    if isinstance(tree, dict):
        found = [tree["Column"]] if "Column" in tree and "ColumnName" in tree["Column"] else []
        return found + [c for value in tree.values() for c in _referenced_columns(value)]
    if isinstance(tree, list):
        return [c for item in tree for c in _referenced_columns(item)]
    return []


def test_analyses_show_every_mart_of_their_exposure(project, exported):
    _, out = exported
    for exposure in quicksight_exposures(project):
        analysis = json.loads((out / "quicksight" / "analyses" / f"{exposure['name']}.json").read_text())
        definition = analysis["Definition"]
        marts = {m["name"]: m for m in mart_nodes(project, exposure)}
        declared = {d["Identifier"]: d["DataSetArn"] for d in definition["DataSetIdentifierDeclarations"]}
        assert set(declared) == set(marts)
        for name, arn in declared.items():
            data_set = json.loads((out / "quicksight" / "data-sets" / f"{name}.json").read_text())
            assert arn == f"arn:aws:quicksight:{REGION}:{ACCOUNT}:dataset/{data_set['DataSetId']}"
        shown = set()
        for sheet in definition["Sheets"]:
            assert sheet["Visuals"], sheet["SheetId"]
            for column in _referenced_columns(sheet["Visuals"]):
                assert column["ColumnName"] in marts[column["DataSetIdentifier"]]["columns"], column
                shown.add(column["DataSetIdentifier"])
        assert shown == set(marts)


@pytest.mark.parametrize("tool", ["quicksight", "tableau"])
def test_tableau_data_source_per_mart_area(project, exported, tool):
    warehouse, out = exported
    for exposure in (e for e in project["exposures"].values() if e["meta"]["tool"] == tool):
        slug = "-".join("".join(ch if ch.isalnum() else " " for ch in exposure["meta"]["area"].lower()).split())
        root = ET.parse(out / "tableau" / f"{slug}.tds").getroot()
        assert root.tag == "datasource"
        named = root.find("connection[@class='federated']/named-connections/named-connection")
        connection = named.find("connection")
        assert connection.get("class") == warehouse and connection.get("schema") == SCHEMA
        tables = root.findall("connection/relation[@type='collection']/relation[@type='table']")
        marts = mart_nodes(project, exposure)
        assert [(t.get("name"), t.get("table")) for t in tables] == [
            (m["alias"], f"[{SCHEMA}].[{m['alias']}]") for m in marts
        ]
        assert {t.get("connection") for t in tables} == {named.get("name")}
        fields = {c.get("name"): c for c in root.findall("column")}
        records = root.findall("connection/metadata-records/metadata-record[@class='column']")
        assert len(records) == len(fields) == sum(len(m["columns"]) for m in marts)
        for mart in marts:
            mine = {r.findtext("remote-name"): r for r in records if r.findtext("parent-name") == f"[{mart['alias']}]"}
            assert list(mine) == list(mart["columns"])
            for column in mart["columns"].values():
                datatype = mapped(column["data_type"])[1]
                record = mine[column["name"]]
                assert record.findtext("local-type") == datatype
                field = fields[record.findtext("local-name")]
                assert field.get("datatype") == datatype
                assert field.get("role") in ("dimension", "measure")
                assert field.get("type") in ("nominal", "ordinal", "quantitative")
                assert (field.get("type") == "quantitative") == (field.get("role") == "measure")
                if field.get("role") == "measure":
                    assert datatype in ("integer", "real"), column["name"]


def test_export_parses_the_project_itself_into_data_dir(tmp_path):
    env = platform_env(tmp_path / "data")
    proc = cli(env, "bi", "export")
    out = tmp_path / "data" / "bi"
    written = [Path(line.removeprefix("wrote ")) for line in proc.stdout.splitlines() if line.startswith("wrote ")]
    assert written and all(path.is_relative_to(out) and path.is_file() for path in written)
    assert sorted(written) == sorted(p for p in out.rglob("*") if p.is_file())
    assert not (tmp_path / "data" / "target").exists()  # parsed in a temporary folder, not into DATA_DIR


def test_a_bad_account_id_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["bi", "export", "--account-id", "42"], env={"DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert result.output.strip() == "error: --account-id '42' is not an AWS account id (12 digits)"
