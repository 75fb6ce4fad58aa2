"""Verdict rows put into a real store, so that the store's own event engine builds events."""

from __future__ import annotations

import datetime as dt
import hashlib

from ashyq.store import Store

COLUMNS = (
    "measurement_uid",
    "rule_version",
    "judged_at",
    "current",
    "target",
    "input",
    "test_name",
    "probe_cc",
    "probe_asn",
    "region",
    "measurement_start_time",
    "status",
    "method",
    "confidence",
)


def verdict(target: str, when: str, status: str, region: str, asn: str = "AS9198") -> dict:
    uid = hashlib.sha256(f"{target}{when}{region}{asn}".encode()).hexdigest()[:24]
    method = {"blocked": "tls.timeout", "down": "tcp.timeout", "ok": None}.get(status)
    return {
        "measurement_uid": uid,
        "rule_version": "test",
        "judged_at": "2024-01-01 00:00:00",
        "current": True,
        "target": target,
        "input": f"https://{target}/",
        "test_name": "web_connectivity",
        "probe_cc": "KZ",
        "probe_asn": asn,
        "region": region,
        "measurement_start_time": when,
        "status": status,
        "method": method,
        "confidence": 0.9,
    }


def series(target: str, day: str, status: str, region: str, times=("14:00", "14:30", "15:00")):
    return [verdict(target, f"{day} {t}:00", status, region) for t in times]


def add_verdicts(store: Store, rows: list[dict]) -> None:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    with store.connect(write=True) as con:
        for r in rows:
            con.execute(f"INSERT INTO verdicts ({cols}) VALUES ({marks})", [r[c] for c in COLUMNS])
        con.execute("INSERT OR REPLACE INTO meta VALUES ('events_dirty', '1')")


def day_of(rows: list[dict]) -> dt.date:
    return dt.date.fromisoformat(rows[0]["measurement_start_time"][:10])
