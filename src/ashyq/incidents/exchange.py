"""Incidents to and from CSV and JSON. Reading validates every row before anything is stored,
so a broken file is reported row by row and nothing of it is half-imported."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ashyq.incidents.model import Incident, IncidentError, incident_from_fields

FIELDS = (
    "incident_id",
    "platform",
    "type",
    "when",
    "precision",
    "account",
    "account_hashed",
    "person",
    "outlet",
    "country_codes",
    "prefixes",
    "numbers",
    "complainant",
    "notice_text",
    "source",
    "status",
    "notes",
)
_LIST_FIELDS = ("country_codes", "prefixes", "numbers")
MAX_ROWS = 100_000


class ImportFailed(ValueError):
    """Rows that cannot be imported, each with its line and the field at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


def parse_rows(rows: list[tuple[str, dict[str, Any]]]) -> list[Incident]:
    """Validate (label, fields) pairs; raise ImportFailed listing every bad row."""
    out, problems = [], []
    for label, fields in rows:
        try:
            out.append(incident_from_fields(fields))
        except IncidentError as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        raise ImportFailed(problems)
    return out


def _unescape(value: str) -> str:
    # a leading apostrophe guards spreadsheet formulas on export
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def read_csv(text: str) -> list[Incident]:
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames
        if not header:
            raise ImportFailed(["line 1: empty file, expected a header row"])
        unknown = [h for h in header if h not in FIELDS and h != "occurred_at"]
        if unknown:
            raise ImportFailed([f"line 1: unknown column(s) {', '.join(unknown)}"])
        rows = []
        for record in reader:
            if len(rows) >= MAX_ROWS:
                raise ImportFailed([f"more than {MAX_ROWS} rows"])
            label = f"line {reader.line_num}"
            if None in record:
                rows.append((label, {"__extra__": True}))
                continue
            fields = {k: _unescape(v) if isinstance(v, str) else v for k, v in record.items()}
            rows.append((label, fields))
    except csv.Error as exc:
        raise ImportFailed([f"line {reader.line_num}: {exc}"]) from exc
    bad = [f"{label}: more values than columns" for label, f in rows if "__extra__" in f]
    if bad:
        raise ImportFailed(bad)
    return parse_rows(rows)


def read_json(text: str) -> list[Incident]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([f"line {exc.lineno}: not JSON ({exc.msg})"]) from exc
    if isinstance(data, dict):
        data = data.get("incidents", [data])
    if not isinstance(data, list):
        raise ImportFailed(["expected a list of incidents"])
    rows = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            rows.append((f"item {i + 1}", {}))
        else:
            rows.append((f"item {i + 1}", item))
    return parse_rows(rows)


def _export_fields(inc: Incident) -> dict[str, Any]:
    d = inc.to_dict()
    return {f: d.get(f) for f in FIELDS}


def _guard(value: str) -> str:
    if value and (value[0] in "=@\t\r" or (value[0] in "+-" and not value[1:].isdigit())):
        return "'" + value
    return value


def write_csv(incidents: list[Incident]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for inc in incidents:
        row = _export_fields(inc)
        for key in _LIST_FIELDS:
            row[key] = ";".join(row[key] or [])
        row["account_hashed"] = "true" if row["account_hashed"] else "false"
        writer.writerow({k: _guard("" if v is None else str(v)) for k, v in row.items()})
    return buf.getvalue()


def write_json(incidents: list[Incident]) -> str:
    return json.dumps([_export_fields(i) for i in incidents], ensure_ascii=False, indent=2)
