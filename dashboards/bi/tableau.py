"""Tableau: a `.tds` data source per exposure's mart area, pointing at Redshift or Athena.

One connection, one table relation per mart (Tableau's logical tables), a metadata record
per physical column, and a ``<column>`` per field with its datatype, role and type. A
column name that occurs in several marts (the keys) carries the mart's name in each, in
Tableau's style: ``[name (mart)]``. Relationships between the tables are drawn in Tableau Desktop.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dashboards.bi.columns import Column, Exposure, Mart
from dashboards.bi.warehouse import Warehouse

DATATYPES = {
    "string": "string",
    "integer": "integer",
    "decimal": "real",
    "float": "real",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
}
DATASOURCE_VERSION = "18.1"


def field_type(column: Column) -> str:
    """Tableau's type: measures are continuous; dates and whole-number keys discrete but ordered."""
    if column.role == "measure":
        return "quantitative"
    return "ordinal" if column.kind in ("date", "datetime", "integer") else "nominal"


def caption(name: str) -> str:
    return name.replace("_", " ").capitalize()


def local_names(marts: tuple[Mart, ...]) -> dict[tuple[str, str], str]:
    """(mart, column) -> the field's name in the data source, unique across its tables."""
    counts: dict[str, int] = {}
    for mart in marts:
        for column in mart.columns:
            counts[column.name] = counts.get(column.name, 0) + 1
    return {
        (mart.name, c.name): f"[{c.name}]" if counts[c.name] == 1 else f"[{c.name} ({mart.name})]"
        for mart in marts
        for c in mart.columns
    }


def _connection_attributes(warehouse: Warehouse) -> dict[str, str]:
    common = {"server": warehouse.endpoint, "schema": warehouse.schema, "dbname": warehouse.database}
    if warehouse.kind == "redshift":
        return {"class": "redshift", **common, "port": str(warehouse.port), "sslmode": "require", "username": ""}
    return {"class": "athena", **common, "port": "443", "workgroup": warehouse.work_group, "username": ""}


def data_source(exposure: Exposure, warehouse: Warehouse) -> str:
    """The `.tds` XML for the marts of ``exposure``."""
    names = local_names(exposure.marts)
    connection_name = f"{warehouse.kind}.marketplace"
    root = ET.Element(
        "datasource",
        {
            "formatted-name": f"Marketplace {exposure.area} marts",
            "inline": "true",
            "version": DATASOURCE_VERSION,
            "xmlns:user": "http://www.tableausoftware.com/xml/user",
        },
    )
    federated = ET.SubElement(root, "connection", {"class": "federated"})
    named = ET.SubElement(ET.SubElement(federated, "named-connections"), "named-connection")
    named.set("caption", warehouse.endpoint)
    named.set("name", connection_name)
    ET.SubElement(named, "connection", _connection_attributes(warehouse))
    tables = ET.SubElement(federated, "relation", {"type": "collection"})
    for mart in exposure.marts:
        ET.SubElement(
            tables,
            "relation",
            {
                "connection": connection_name,
                "name": mart.name,
                "table": f"[{warehouse.schema}].[{mart.name}]",
                "type": "table",
            },
        )
    records = ET.SubElement(federated, "metadata-records")
    for mart in exposure.marts:
        for column in mart.columns:
            record = ET.SubElement(records, "metadata-record", {"class": "column"})
            for tag, text in (
                ("remote-name", column.name),
                ("local-name", names[mart.name, column.name]),
                ("parent-name", f"[{mart.name}]"),
                ("local-type", DATATYPES[column.kind]),
            ):
                ET.SubElement(record, tag).text = text
    for mart in exposure.marts:
        for column in mart.columns:
            field = ET.SubElement(
                root,
                "column",
                {
                    "caption": caption(column.name),
                    "datatype": DATATYPES[column.kind],
                    "name": names[mart.name, column.name],
                    "role": column.role,
                    "type": field_type(column),
                },
            )
            if column.description:
                text = ET.SubElement(ET.SubElement(field, "desc"), "formatted-text")
                ET.SubElement(text, "run").text = column.description
    ET.indent(root)
    return "<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(root, encoding="unicode") + "\n"
