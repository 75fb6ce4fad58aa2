"""Saving and reading claims (thin I/O over ``db.connection``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from ashyq.claims import db
from ashyq.claims.model import Report
from ashyq.sqlfilter import Filters

COLUMNS = (
    "claim_id",
    "source",
    "report_sha256",
    "report_language",
    "published",
    "kind",
    "targets",
    "not_affected",
    "places",
    "scope",
    "date",
    "date_text",
    "date_source",
    "official_explanation",
    "hedged",
    "language",
    "confidence",
    "evidence",
    "saved_at",
    "isps",
    "asns",
)
_INSERT = (
    f"INSERT OR REPLACE INTO claims ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)


def claim_rows(report: Report) -> list[dict[str, Any]]:
    """The rows a report's claims become (JSON-ready)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    rows = []
    for claim in report.claims:
        d = claim.to_dict()
        rows.append(
            {
                "claim_id": claim.fingerprint(report.source),
                "source": report.source,
                "report_sha256": report.sha256,
                "report_language": report.language,
                "published": report.published,
                "kind": d["kind"],
                "targets": d["targets"],
                "not_affected": d["not_affected"],
                "places": d["places"],
                "scope": d["scope"],
                "date": d["date"],
                "date_text": d["date_text"],
                "date_source": d["date_source"],
                "official_explanation": d["official_explanation"],
                "hedged": d["hedged"],
                "language": d["language"],
                "confidence": d["confidence"],
                "evidence": d["evidence"],
                "saved_at": now,
                "isps": d["isps"],
                "asns": d["asns"],
            }
        )
    return rows


def _insert(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    values = [row.get(c) for c in COLUMNS]
    values[COLUMNS.index("evidence")] = json.dumps(row.get("evidence") or [], ensure_ascii=False)
    con.execute(_INSERT, values)


db.register_replay("claims", _insert)


def save_report(where: db.Where, report: Report) -> list[str]:
    """Store a report's claims (the same claim saved twice is kept once). Returns their ids."""
    rows = claim_rows(report)
    with db.connection(where, "claims", write=True) as (con, data_dir):
        for row in rows:
            _insert(con, row)
    for row in rows:
        db.append_journal(data_dir, "claims", row)
    return [r["claim_id"] for r in rows]


def _row_to_dict(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    found = dict(zip(names, row, strict=True))
    out = {c: found.get(c) for c in COLUMNS}
    out["evidence"] = json.loads(out["evidence"] or "[]")
    for key in ("targets", "not_affected", "places", "isps", "asns"):
        out[key] = list(out[key] or [])
    for key in ("published", "date"):
        out[key] = out[key].isoformat() if out[key] is not None else None
    out["saved_at"] = out["saved_at"].isoformat() if out["saved_at"] is not None else None
    return out


def list_claims(
    where: db.Where,
    kind: str | None = None,
    target: str | None = None,
    since: str | None = None,
    until: str | None = None,
    claim_id: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Stored claims, newest claim date first, as JSON-ready dicts.

    ``target`` matches a platform name or domain in targets; since/until bound the claim date.
    """
    f = Filters()
    f.add("kind = ?", kind)
    f.add("list_contains(targets, ?)", target and target.lower())
    f.add('"date" >= ?::DATE', since)
    f.add('"date" < ?::DATE', until)
    f.add("claim_id = ?", claim_id)
    # SELECT *: a read-only file made by an older version may lack newer columns
    statement = (
        f"SELECT * FROM claims WHERE {f.sql} "
        'ORDER BY "date" DESC NULLS LAST, saved_at DESC, claim_id'
    )
    if limit:
        statement += f" LIMIT {int(limit)}"
    with db.connection(where, "claims") as (con, _):
        cur = con.execute(statement, f.params)
        names = [d[0] for d in cur.description]
        return [_row_to_dict(names, r) for r in cur.fetchall()]
