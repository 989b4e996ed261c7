"""Plain functions of the partners pipeline: reading, checking and splitting the files."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ingestion.errors import PlatformError
from ingestion.pipelines.partners.settings import (
    MAX_PRICE_DECIMALS,
    OPTIONAL_COLUMNS,
    OTHER_DELIMITERS,
    PARTNER_SUPPLIERS,
    REQUIRED_COLUMNS,
)

DATE_IN_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})")


@dataclass
class ParsedFile:
    source_file: str  # "<partner>/<name>", relative to landing/partners
    partner: str
    sha256: str
    size_bytes: int
    modified_at: datetime | None
    feed_date: date | None
    status: str = "loaded"  # loaded | duplicate | rejected
    duplicate_of: str | None = None
    data_rows: int = 0
    rows: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "source_file": self.source_file,
            "partner": self.partner,
            "feed_date": self.feed_date,
            "file_sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "modified_at": self.modified_at,
            "status": self.status,
            "duplicate_of": self.duplicate_of,
            "data_rows": self.data_rows,
            "loaded_rows": len(self.rows),
            "quarantined_rows": len(self.rejects),
        }


def normalise_header(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def parse_file(source_file: str, content: bytes, modified_at: datetime | None) -> ParsedFile:
    """Split one file into rows that meet the contract and rejects with a reason.

    A file whose header or encoding is wrong cannot be read row by row: that raises a
    ``PlatformError`` naming the file, before anything is loaded.
    """
    partner = source_file.split("/", 1)[0]
    name = source_file.rsplit("/", 1)[-1]
    found = DATE_IN_NAME.match(name)
    parsed = ParsedFile(
        source_file=source_file,
        partner=partner,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        modified_at=modified_at,
        feed_date=_date(found.group(1)) if found else None,
    )
    text = _decode(source_file, content)
    lines = text.splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise PlatformError(f"partner file {source_file} is empty: it has no header row")
    columns = _check_header(source_file, lines[header_at])
    whole_file_reason = None
    if partner not in PARTNER_SUPPLIERS:
        whole_file_reason = f"unknown partner {partner!r} (not in PARTNER_SUPPLIERS)"
    elif parsed.feed_date is None:
        whole_file_reason = "file name does not start with the feed date YYYY-MM-DD"
    seen_parts: set[int] = set()
    for index in range(header_at + 1, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        parsed.data_rows += 1
        line_number = index + 1
        fields = next(csv.reader([line]))
        reason = whole_file_reason
        row = None
        if reason is None:
            row, reason = _check_row(columns, fields)
        if reason is None and row["part_id"] in seen_parts:
            reason = f"part_id {row['part_id']} appears twice in the file"
        if reason is not None:
            parsed.rejects.append(
                {
                    "partner": partner,
                    "source_file": source_file,
                    "source_line": line_number,
                    "reason": reason,
                    "raw_line": line,
                    "file_sha256": parsed.sha256,
                    "feed_date": parsed.feed_date,
                }
            )
            continue
        seen_parts.add(row["part_id"])
        parsed.rows.append(
            {
                "partner": partner,
                "supplier_id": PARTNER_SUPPLIERS[partner],
                **row,
                "feed_date": parsed.feed_date,
                "source_file": source_file,
                "source_line": line_number,
                "file_sha256": parsed.sha256,
            }
        )
    if whole_file_reason:
        parsed.status = "rejected"
    return parsed


def _decode(source_file: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlatformError(
            f"partner file {source_file} is not UTF-8 (byte 0x{content[exc.start]:02x} at "
            f"offset {exc.start}): ask the partner to re-send it as UTF-8"
        ) from exc


def _check_header(source_file: str, line: str) -> list[str]:
    names = [normalise_header(n) for n in next(csv.reader([line]))]
    if len(names) == 1:
        for delimiter in OTHER_DELIMITERS:
            if delimiter in line:
                raise PlatformError(f"partner file {source_file} uses {delimiter!r} as delimiter, not ','")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or doubled:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        if doubled:
            problems.append(f"repeated {', '.join(doubled)}")
        raise PlatformError(
            f"partner file {source_file} breaks the feed contract: {'; '.join(problems)} (header {line.strip()!r})"
        )
    return names


def _check_row(columns: list[str], fields: list[str]) -> tuple[dict | None, str | None]:
    if len(fields) != len(columns):
        return None, f"expected {len(columns)} fields, found {len(fields)}"
    values = dict(zip(columns, (f.strip() for f in fields), strict=True))
    row: dict = {}
    for column, minimum in (("part_id", 1), ("qty_available", 0)):
        number = _integer(values[column])
        if number is None or number < minimum:
            return None, f"{column} {values[column]!r} is not an integer >= {minimum}"
        row[column] = number
    try:
        price = Decimal(values["unit_price"])
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price <= 0:
        return None, f"unit_price {values['unit_price']!r} is not a positive number"
    if -price.as_tuple().exponent > MAX_PRICE_DECIMALS:
        return None, f"unit_price {values['unit_price']!r} has more than {MAX_PRICE_DECIMALS} decimals"
    row["unit_price"] = price
    lead = values.get("lead_time_days", "")
    row["lead_time_days"] = None
    if lead:
        row["lead_time_days"] = _integer(lead)
        if row["lead_time_days"] is None or row["lead_time_days"] < 0:
            return None, f"lead_time_days {lead!r} is not an integer >= 0"
    return row, None


def _integer(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_new_files(files, loaded_paths: dict[str, str], loaded_hashes: set[str]) -> list[ParsedFile]:
    """Parse the listed files not loaded before; a copy of a loaded file is a duplicate.

    ``files`` are dlt filesystem items; ``loaded_paths`` maps each loaded file to its hash.
    A file re-written with new content counts as new (a partner's correction).
    """
    batch: list[ParsedFile] = []
    hashes = {sha: None for sha in loaded_hashes}
    for item in sorted(files, key=lambda f: (f["modification_date"], f["relative_path"])):
        content = item.read_bytes()
        path = item["relative_path"]
        sha = hashlib.sha256(content).hexdigest()
        if loaded_paths.get(path) == sha:
            continue
        if sha in hashes:
            first = hashes[sha] or next((p for p, s in loaded_paths.items() if s == sha), None)
            parsed = ParsedFile(
                source_file=path,
                partner=path.split("/", 1)[0],
                sha256=sha,
                size_bytes=len(content),
                modified_at=item["modification_date"],
                feed_date=None,
                status="duplicate",
                duplicate_of=first,
            )
            found = DATE_IN_NAME.match(path.rsplit("/", 1)[-1])
            parsed.feed_date = _date(found.group(1)) if found else None
        else:
            parsed = parse_file(path, content, item["modification_date"])
            hashes[sha] = path
        batch.append(parsed)
    return batch
