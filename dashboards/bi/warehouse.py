"""Where the BI tools find the marts: Redshift or Athena, in one AWS account and region."""

from __future__ import annotations

from dataclasses import dataclass

WAREHOUSES = ("redshift", "athena")
# AWS's documentation account: an obvious stand-in until a team passes its own.
EXAMPLE_ACCOUNT_ID = "111122223333"


@dataclass(frozen=True)
class Warehouse:
    kind: str  # redshift or athena
    account_id: str
    region: str
    schema: str  # Redshift schema, or Athena's Glue database
    database: str  # Redshift database, or Athena's data catalog
    host: str = ""  # Redshift endpoint
    port: int = 5439
    work_group: str = "primary"  # Athena

    def __post_init__(self):
        if self.kind not in WAREHOUSES:
            raise ValueError(f"unknown warehouse {self.kind!r}; expected one of {WAREHOUSES}")

    @property
    def endpoint(self) -> str:
        if self.kind == "athena":
            return f"athena.{self.region}.amazonaws.com"
        return self.host or f"REDSHIFT_HOST.{self.region}.redshift.amazonaws.com"
