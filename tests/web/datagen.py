"""Generated data for the web tests: OONI-format Web Connectivity measurements on three
Kazakh networks over the last days, stored with ``Store.add_measurements`` (raw archive and
measurements table), plus the verdicts and events this scenario is known to hold, written with
the store's documented schema so that every page can be checked against known truth.

One measurement carries a hostile blockpage (``<script>``, ``onerror=``) and a hostile region.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ashyq.store.identity import check_measurement
from ashyq.store.sql import VERDICT_COLUMNS, read_ndjson
from ashyq.store.store import Store

RULE_VERSION = "web-test-1"
HOSTILE_BODY = (
    "<html><head><title>Blocked<script>window.__pwned=1;alert('t')</script></title></head>"
    "<body><h1>Access denied</h1><script>window.__pwned=2;alert(document.cookie)</script>"
    "<img src=x onerror=\"window.__pwned=3;alert('img')\">"
    '<svg onload="window.__pwned=4"></svg><iframe src="javascript:alert(5)"></iframe>'
    "</body></html>"
)
HOSTILE_REGION = "<img src=x onerror=alert(9)>"
NETWORKS = {
    "AS9198": ("JSC Kazakhtelecom", ("Almaty", "Shymkent")),
    "AS21299": ("Kar-Tel LLP", ("Astana",)),
    "AS48716": ("PS Internet Company LLP", ("Shymkent",)),
}
TARGETS = {
    "vlast.kz": "NEWS",
    "telegram.org": "COMT",
    "azattyq.org": "NEWS",
    "hostile.example": "HOST",
}
IPS = {
    "vlast.kz": "185.22.64.10",
    "telegram.org": "149.154.167.99",
    "azattyq.org": "104.16.1.1",
    "hostile.example": "203.0.113.7",
}


@dataclass(frozen=True)
class EventSpec:
    key: str
    kind: str
    target: str | None
    asn: str
    regions: tuple[str, ...]
    start_h: int  # hours before now
    end_h: int | None  # hours before now; None: ongoing
    method: str
    status: str


SPECS = (
    EventSpec("vlast_now", "blocking", "vlast.kz", "AS9198", ("Almaty", "Shymkent"), 10, None,
              "dns.nxdomain", "blocked"),
    EventSpec("vlast_past", "blocking", "vlast.kz", "AS9198", ("Almaty",), 50, 46,
              "dns.nxdomain", "blocked"),
    EventSpec("telegram_slow", "throttling", "telegram.org", "AS21299", ("Astana",), 30, 26,
              "throughput.throttled", "throttled"),
    EventSpec("hostile_now", "blocking", "hostile.example", "AS9198", ("Almaty",), 8, None,
              "http.blockpage:kz.test", "blocked"),
    EventSpec("outage_shym", "outage", None, "AS48716", ("Shymkent",), 20, 17,
              "tcp.timeout", "down"),
)  # fmt: skip


@dataclass
class Scenario:
    now: datetime
    data_dir: Path
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> event row
    measurements: list[dict[str, Any]] = field(default_factory=list)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> verdict
    hostile_uid: str = ""
    old_event_id: str = ""


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _slug(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _uid(t: datetime, asn: str, target: str, region: str) -> str:
    digest = hashlib.sha256(f"{t}{asn}{target}{region}".encode()).hexdigest()[:16]
    return f"{t.strftime('%Y%m%d%H%M%S')}.000000_KZ_webconnectivity_{digest}"


def measurement(
    t: datetime, target: str, asn: str, region: str, status: str, method: str | None
) -> dict[str, Any]:
    name, _ = NETWORKS[asn]
    ip = IPS[target]
    body = f"<html><head><title>{target} home</title></head><body>news</body></html>"
    control = {
        "dns": {"failure": None, "addrs": [ip]},
        "tcp_connect": {f"{ip}:443": {"status": True, "failure": None}},
        "tls_handshake": {f"{ip}:443": {"server_name": target, "status": True, "failure": None}},
        "http_request": {
            "body_length": len(body),
            "failure": None,
            "title": f"{target} home",
            "headers": {"Content-Type": "text/html"},
            "status_code": 200,
        },
    }
    queries = [
        {
            "answers": [{"answer_type": "A", "ipv4": ip, "asn": 13335}],
            "failure": None,
            "hostname": target,
            "query_type": "A",
            "engine": "system",
        }
    ]
    tcp = [{"ip": ip, "port": 443, "status": {"success": True, "failure": None}}]
    tls = [{"address": f"{ip}:443", "server_name": target, "failure": None,
            "peer_certificates": None}]  # fmt: skip
    response: dict[str, Any] = {"code": 200, "body": body, "headers": {"Content-Type": "text/html"}}
    request_failure = None
    blocking: Any = False
    if method == "dns.nxdomain":
        queries[0]["answers"] = None
        queries[0]["failure"] = "dns_nxdomain_error"
        tcp, tls, response, request_failure, blocking = [], [], {}, "dns_nxdomain_error", "dns"
    elif method and method.startswith("http.blockpage"):
        response = {
            "code": 200,
            "body": HOSTILE_BODY,
            "headers": {"Content-Type": "text/html", "X-Evil": "<script>alert(7)</script>"},
        }
        blocking = "http-diff"
    elif method == "tcp.timeout":
        tcp = [
            {
                "ip": ip,
                "port": 443,
                "status": {"success": False, "failure": "generic_timeout_error"},
            }
        ]
        tls, response, request_failure, blocking = [], {}, "generic_timeout_error", None
        control["http_request"]["failure"] = None
    test_keys: dict[str, Any] = {
        "queries": queries,
        "tcp_connect": tcp,
        "tls_handshakes": tls,
        "requests": [
            {
                "request": {"url": f"https://{target}/", "method": "GET"},
                "response": response,
                "failure": request_failure,
            }
        ],
        "control": control,
        "control_failure": None,
        "blocking": blocking,
        "accessible": status == "ok",
    }
    return {
        "measurement_uid": _uid(t, asn, target, region),
        "report_id": (
            f"{t.strftime('%Y%m%dT%H%M%SZ')}_webconnectivity_KZ_{asn[2:]}_n1_{_slug(region)}"
        ),
        "input": f"https://{target}/",
        "test_name": "web_connectivity",
        "test_version": "0.5.28",
        "data_format_version": "0.2.0",
        "probe_cc": "KZ",
        "probe_asn": asn,
        "probe_network_name": name,
        "probe_ip": "127.0.0.1",
        "measurement_start_time": _fmt(t),
        "test_start_time": _fmt(t),
        "software_name": "ashyq",
        "software_version": "0.1.0",
        "annotations": {"region": region},
        "test_keys": test_keys,
    }


def _spec_for(target: str, asn: str, region: str, hours_ago: float) -> EventSpec | None:
    for spec in SPECS:
        if spec.asn != asn or region not in spec.regions:
            continue
        if spec.target is not None and spec.target != target:
            continue
        end = spec.end_h if spec.end_h is not None else -1
        if end < hours_ago <= spec.start_h:
            return spec
    return None


def _evidence(status: str, method: str | None, target: str) -> list[str]:
    if status == "ok":
        return [f"the probe loaded {target} like the control did (HTTP 200)"]
    return [f"{method}: the probe failed where the control succeeded for {target}"]


def build(data_dir: Path, now: datetime | None = None, hours: int = 72) -> Scenario:
    """Fill a fresh store in ``data_dir`` and return what it holds."""
    now = (now or datetime.now(UTC).replace(tzinfo=None)).replace(microsecond=0)
    base = now.replace(minute=0, second=0)
    sc = Scenario(now=now, data_dir=data_dir)
    rows: list[tuple[dict[str, Any], str, str | None, EventSpec | None]] = []
    for h in range(hours, -1, -1):
        for asn, (_, regions) in NETWORKS.items():
            for region in regions:
                for target in TARGETS:
                    if target == "hostile.example" and (asn, region) != ("AS9198", "Almaty"):
                        continue
                    t = base - timedelta(hours=h) + timedelta(minutes=7)
                    if t > now:
                        t = now - timedelta(minutes=1)
                    hours_ago = (now - t).total_seconds() / 3600
                    spec = _spec_for(target, asn, region, hours_ago)
                    status = spec.status if spec else "ok"
                    method = spec.method if spec else None
                    m = measurement(t, target, asn, region, status, method)
                    rows.append((m, status, method, spec))
    # one hostile measurement whose region itself is markup (judged ok, no event)
    hostile_region = measurement(
        base - timedelta(hours=3), "azattyq.org", "AS9198", HOSTILE_REGION, "ok", None
    )
    rows.append((hostile_region, "ok", None, None))
    store = Store.open(data_dir)
    result = store.add_measurements([r[0] for r in rows], source="probe", recompute_events=False)
    if result.rejected:
        raise RuntimeError(f"generated measurements rejected: {result.errors[:3]}")
    sc.measurements = [r[0] for r in rows]
    judged = _fmt(now)
    verdict_rows = []
    by_event: dict[str, list[tuple[datetime, str]]] = {}
    for m, status, method, spec in rows:
        uid = check_measurement(m).uid  # the store's identity of this measurement
        t = datetime.strptime(m["measurement_start_time"], "%Y-%m-%d %H:%M:%S")
        target = m["input"].split("/")[2]
        v = {
            "measurement_uid": uid,
            "rule_version": RULE_VERSION,
            "judged_at": judged,
            "current": True,
            "report_id": m["report_id"],
            "input": m["input"],
            "target": target,
            "test_name": m["test_name"],
            "probe_cc": "KZ",
            "probe_asn": m["probe_asn"],
            "probe_network_name": m["probe_network_name"],
            "region": m["annotations"]["region"],
            "measurement_start_time": m["measurement_start_time"],
            "status": status,
            "method": method,
            "confidence": 0.9 if status != "ok" else 0.8,
            "evidence": _evidence(status, method, target),
            "ooni_blocking": json.dumps(m["test_keys"]["blocking"]),
            "ooni_accessible": status == "ok",
            "details": json.dumps({"generated": True}),
        }
        verdict_rows.append(v)
        sc.verdicts[uid] = v
        if spec is not None:
            by_event.setdefault(spec.key, []).append((t, uid))
        if "blockpage" in (method or "") and not sc.hostile_uid:
            sc.hostile_uid = uid
    events = []
    for spec in SPECS:
        items = sorted(by_event.get(spec.key, []))
        if not items:
            continue
        start = items[0][0]
        end = None if spec.end_h is None else items[-1][0]
        event_id = "ev-" + hashlib.sha256(f"{spec.key}{start}".encode()).hexdigest()[:16]
        networks = [{"asn": spec.asn, "region": r, "first": _fmt(start)} for r in spec.regions]
        ev = {
            "event_id": event_id,
            "kind": spec.kind,
            "target": spec.target,
            "scope": "network" if len(spec.regions) > 1 else "regional",
            "country": "KZ",
            "asns": [spec.asn],
            "regions": list(spec.regions),
            "networks": json.dumps(networks),
            "start": _fmt(start),
            "end": _fmt(end) if end else None,
            "last_good_before": _fmt(start - timedelta(hours=1)),
            "first_good_after": _fmt(end + timedelta(hours=1)) if end else None,
            "methods": [spec.method],
            "measurements": len(items),
            "measurement_uids": [u for _, u in items][:200],
            "confidence": 0.9,
            "recurrence": None,
            "computed_at": judged,
        }
        events.append(ev)
        sc.events[spec.key] = ev
    # an old event, 40 days ago, outside the default 30-day window
    old_start = now - timedelta(days=40)
    old = {
        "event_id": "ev-old-rferl",
        "kind": "blocking",
        "target": "rferl.org",
        "scope": "national",
        "country": "KZ",
        "asns": ["AS9198", "AS21299"],
        "regions": ["Almaty", "Astana"],
        "networks": "[]",
        "start": _fmt(old_start),
        "end": _fmt(old_start + timedelta(hours=5)),
        "last_good_before": None,
        "first_good_after": None,
        "methods": ["tls.timeout"],
        "measurements": 12,
        "measurement_uids": [],
        "confidence": 0.8,
        "recurrence": "every day 19:00–23:00 Asia/Almaty",
        "computed_at": judged,
    }
    events.append(old)
    sc.events["old"] = old
    sc.old_event_id = old["event_id"]
    write_truth(store, verdict_rows, events)
    return sc


def write_truth(store: Store, verdicts: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """Replace verdicts and events with the scenario's own (the documented schema)."""
    ecols = list(events[0])
    with store.connect(write=True) as con:
        con.execute("BEGIN")
        con.execute("DELETE FROM verdicts")
        con.execute("DELETE FROM events")
        with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as tmp:
            for v in verdicts:
                tmp.write(json.dumps({c: v[c] for c in VERDICT_COLUMNS}, default=str) + "\n")
        try:
            con.execute(
                f"INSERT INTO verdicts SELECT * FROM {read_ndjson(VERDICT_COLUMNS)}", [tmp.name]
            )
        finally:
            os.unlink(tmp.name)
        quoted = ", ".join(f'"{c}"' for c in ecols)
        con.executemany(
            f"INSERT INTO events ({quoted}) VALUES ({', '.join('?' * len(ecols))})",
            [[e[c] for c in ecols] for e in events],
        )
        con.execute("INSERT OR REPLACE INTO meta VALUES ('events_dirty', '0')")
        con.execute("COMMIT")
