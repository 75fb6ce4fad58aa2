"""Generated verdict series with known truth, and a way to put them in a real store."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from ashyq.store import Store, sql
from ashyq.store.store import _ndjson

T0 = datetime(2024, 5, 9, 0, 0, 0)


def verdict(
    target: str,
    asn: str,
    region: str | None,
    t: datetime,
    status: str,
    method: str | None = None,
    cc: str = "KZ",
    confidence: float = 0.9,
) -> dict[str, Any]:
    uid = "v" + hashlib.sha1(f"{target}|{asn}|{region}|{t}|{status}".encode()).hexdigest()[:30]
    return {
        "measurement_uid": uid,
        "rule_version": "test-1",
        "judged_at": "2024-06-01 00:00:00",
        "current": True,
        "report_id": None,
        "input": f"https://{target}/",
        "target": target,
        "test_name": "web_connectivity",
        "probe_cc": cc,
        "probe_asn": asn,
        "probe_network_name": None,
        "region": region,
        "measurement_start_time": t,
        "status": status,
        "method": method if status != "ok" else None,
        "confidence": confidence,
        "evidence": [],
        "ooni_blocking": None,
        "ooni_accessible": None,
        "details": "{}",
    }


def series(
    target: str,
    asn: str,
    region: str | None,
    start: datetime,
    count: int,
    every: timedelta,
    bad: set[int] | range,
    status: str = "blocked",
    method: str = "dns.nxdomain",
    jitter: int = 0,
) -> list[dict[str, Any]]:
    """`count` measurements `every` apart; those with index in `bad` have `status`."""
    rows = []
    for i in range(count):
        t = start + i * every + timedelta(seconds=(i * 37) % (jitter + 1))
        rows.append(verdict(target, asn, region, t, status if i in bad else "ok", method))
    return rows


def insert(store: Store, rows: list[dict[str, Any]]) -> None:
    """Put verdict rows straight into the verdicts table (events read only that table)."""
    out = []
    for r in rows:
        r = dict(r)
        r["measurement_start_time"] = r["measurement_start_time"].strftime("%Y-%m-%d %H:%M:%S")
        out.append(r)
    with store.connect(write=True) as con, _ndjson(out) as tmp:
        con.execute(sql.INSERT_VERDICTS, [tmp])
        con.execute(sql.SET_META, ["events_dirty", "1"])
