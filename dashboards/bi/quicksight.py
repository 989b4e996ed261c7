"""QuickSight: the requests `aws quicksight create-data-source`, `create-data-set` and
`create-analysis` take (``--cli-input-json``), built from the marts' columns.

One data source (the warehouse), one DIRECT_QUERY data set per mart, and one analysis
per exposure with a sheet per mart: a bar chart of its measures by month when it has a
date, and a table of all its columns. ``validate`` checks a request against botocore's
QuickSight service model offline, including the enums, lengths and patterns that
botocore's own parameter validation leaves to the service.
"""

from __future__ import annotations

import re
from functools import cache

from dashboards.bi.columns import Column, Exposure, Mart
from dashboards.bi.warehouse import Warehouse

INPUT_COLUMN_TYPES = {
    "string": ("STRING", None),
    "integer": ("INTEGER", None),
    "decimal": ("DECIMAL", "FIXED"),
    "float": ("DECIMAL", "FLOAT"),
    "date": ("DATETIME", None),
    "datetime": ("DATETIME", None),
    "boolean": ("BIT", None),
}
# The measures a chart shows at most, and how ratios (rather than counts and amounts) add up.
_CHART_MEASURES = 3
_RATIO_SUFFIXES = ("_rate", "_ratio", "_share")


def resource_id(name: str) -> str:
    """QuickSight ids allow letters, digits, '_' and '-'; dashes read better in ARNs and URLs."""
    return "marketplace-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()


def _arn(warehouse: Warehouse, kind: str, resource: str) -> str:
    return f"arn:aws:quicksight:{warehouse.region}:{warehouse.account_id}:{kind}/{resource}"


def data_source_id(warehouse: Warehouse) -> str:
    return resource_id(warehouse.kind)


def data_set_id(mart: Mart) -> str:
    return resource_id(mart.name)


def data_source(warehouse: Warehouse) -> dict:
    if warehouse.kind == "redshift":
        kind, parameters = (
            "REDSHIFT",
            {
                "RedshiftParameters": {
                    "Host": warehouse.endpoint,
                    "Port": warehouse.port,
                    "Database": warehouse.database,
                }
            },
        )
    else:
        kind, parameters = "ATHENA", {"AthenaParameters": {"WorkGroup": warehouse.work_group}}
    return {
        "AwsAccountId": warehouse.account_id,
        "DataSourceId": data_source_id(warehouse),
        "Name": f"Marketplace marts ({warehouse.kind})",
        "Type": kind,
        "DataSourceParameters": parameters,
    }


def input_column(column: Column) -> dict:
    kind, sub_type = INPUT_COLUMN_TYPES[column.kind]
    return {"Name": column.name, "Type": kind, **({"SubType": sub_type} if sub_type else {})}


def data_set(mart: Mart, warehouse: Warehouse) -> dict:
    table = {
        "DataSourceArn": _arn(warehouse, "datasource", data_source_id(warehouse)),
        **({"Catalog": warehouse.database} if warehouse.kind == "athena" else {}),
        "Schema": warehouse.schema,
        "Name": mart.name,
        "InputColumns": [input_column(c) for c in mart.columns],
    }
    return {
        "AwsAccountId": warehouse.account_id,
        "DataSetId": data_set_id(mart),
        "Name": mart.name,
        "PhysicalTableMap": {resource_id(mart.name): {"RelationalTable": table}},
        "ImportMode": "DIRECT_QUERY",
    }


def _title(text: str) -> dict:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}


def _column(mart: Mart, column: Column) -> dict:
    return {"DataSetIdentifier": mart.name, "ColumnName": column.name}


def _trend(mart: Mart) -> dict | None:
    """Bar chart: the mart's first few measures by month of its first date."""
    if not (mart.dates and mart.measures):
        return None
    date, measures = mart.dates[0], mart.measures[:_CHART_MEASURES]
    values = [
        {
            "NumericalMeasureField": {
                "FieldId": f"{mart.name}.{m.name}.trend",
                "Column": _column(mart, m),
                "AggregationFunction": {
                    "SimpleNumericalAggregation": "AVERAGE" if m.name.endswith(_RATIO_SUFFIXES) else "SUM"
                },
            }
        }
        for m in measures
    ]
    category = {
        "DateDimensionField": {
            "FieldId": f"{mart.name}.{date.name}.trend",
            "Column": _column(mart, date),
            "DateGranularity": "MONTH",
        }
    }
    return {
        "BarChartVisual": {
            "VisualId": f"{resource_id(mart.name)}-trend",
            "Title": _title(f"{mart.name} by month of {date.name}"),
            "ChartConfiguration": {
                "FieldWells": {"BarChartAggregatedFieldWells": {"Category": [category], "Values": values}},
                "Orientation": "VERTICAL",
            },
        }
    }


def _table(mart: Mart) -> dict:
    fields = [{"FieldId": f"{mart.name}.{c.name}.table", "Column": _column(mart, c)} for c in mart.columns]
    return {
        "TableVisual": {
            "VisualId": f"{resource_id(mart.name)}-table",
            "Title": _title(mart.name),
            "ChartConfiguration": {"FieldWells": {"TableUnaggregatedFieldWells": {"Values": fields}}},
        }
    }


def _sheet(mart: Mart) -> dict:
    visuals = [v for v in (_trend(mart), _table(mart)) if v]
    elements = [
        {"ElementId": next(iter(v.values()))["VisualId"], "ElementType": "VISUAL", "ColumnSpan": 36, "RowSpan": 12}
        for v in visuals
    ]
    return {
        "SheetId": resource_id(mart.name),
        "Name": mart.name,
        "Visuals": visuals,
        "Layouts": [{"Configuration": {"GridLayout": {"Elements": elements}}}],
    }


def analysis(exposure: Exposure, warehouse: Warehouse) -> dict:
    declarations = [
        {"Identifier": m.name, "DataSetArn": _arn(warehouse, "dataset", data_set_id(m))} for m in exposure.marts
    ]
    return {
        "AwsAccountId": warehouse.account_id,
        "AnalysisId": resource_id(exposure.name),
        "Name": exposure.label,
        "Definition": {
            "DataSetIdentifierDeclarations": declarations,
            "Sheets": [_sheet(m) for m in exposure.marts],
        },
    }


# -- offline validation against the service model -------------------------------------------


@cache
def _service_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("quicksight")


def validate(operation: str, params: dict) -> list[str]:
    """Every way ``params`` breaks the input shape of QuickSight's ``operation``; [] when valid."""
    from botocore.validate import ParamValidator

    shape = _service_model().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    errors = report.generate_report().splitlines() if report.has_errors() else []
    _check_constraints(params, shape, "", errors)
    return [e.strip() for e in errors if e.strip()]


def _check_constraints(value, shape, path: str, errors: list[str]) -> None:
    """Enums, maximum lengths/sizes and patterns (matched whole, the strict reading): botocore
    checks only types, required members and minimums."""
    meta, kind = shape.metadata, shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                _check_constraints(item, shape.members[key], f"{path}.{key}" if path else key, errors)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} items, more than the {meta['max']} allowed")
        for i, item in enumerate(value):
            _check_constraints(item, shape.member, f"{path}[{i}]", errors)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _check_constraints(key, shape.key, f"{path} key {key!r}", errors)
            _check_constraints(item, shape.value, f"{path}[{key!r}]", errors)
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} is not one of {', '.join(shape.enum)}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: longer than {meta['max']} characters")
        pattern = _pattern(meta.get("pattern"))
        if pattern and not pattern.fullmatch(value):
            errors.append(f"{path}: {value!r} does not match the pattern {meta['pattern']}")
    elif kind in ("integer", "long") and isinstance(value, int) and "max" in meta and value > meta["max"]:
        errors.append(f"{path}: {value} is more than {meta['max']}")


@cache
def _pattern(pattern: str | None):
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct: leave that pattern to the service
        return None
